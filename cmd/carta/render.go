package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// runRender implements "carta render JOB.json [-o OUT.pdf|DIR]".
func runRender(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("render", "usage: carta render JOB.json [-o OUT.pdf|DIR] [-accepted DATE] [signing flags]", stderr)
	out := fs.String("o", "", "output PDF path (default: the job file's name with .pdf, in the current folder; - for standard output), or a folder to write the letter and its copies under their S3 keys")
	acceptedFlag := fs.String("accepted", "", "acceptance date (YYYY-MM-DD or RFC 3339) that dates a job without a date; default now, or $CARTA_ACCEPTED")
	sf := addSignFlags(fs)
	paths, code, ok := parseArgs(fs, args, os.LookupEnv, stderr)
	if !ok {
		return code
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitInvalid
	}
	signer, err := sf.signer()
	if err != nil {
		fmt.Fprintf(stderr, "carta render: %v\n", err)
		return exitInvalid
	}
	data, err := readJob(paths[0])
	if err != nil {
		fmt.Fprintf(stderr, "carta render: %v\n", err)
		return exitFailure
	}
	accepted, err := acceptedDate(*acceptedFlag, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "carta render: %v\n", err)
		return exitInvalid
	}
	j, err := job.Decode(data)
	if code, done := reportJobError(stderr, "render", err); done {
		return code
	}
	outs, err := renderer.RenderAllWith(j, renderer.Options{Accepted: accepted})
	if code, done := reportJobError(stderr, "render", err); done {
		return code
	}
	dest := *out
	if dest == "" {
		base := filepath.Base(paths[0])
		if paths[0] == "-" {
			base = "letter.json"
		}
		dest = strings.TrimSuffix(base, filepath.Ext(base)) + ".pdf"
	}
	if dest == "-" && len(outs) > 1 {
		fmt.Fprintln(stderr, "carta render: -o -: the job asks for per-recipient copies; name a folder or a .pdf path")
		return exitInvalid
	}
	dated := ""
	if j.Letter.Date == "" && (j.Statement == nil || j.Statement.Date == "") {
		day := outs[0].Date.Format(time.DateOnly)
		dated = ", dated " + day + " (accepted; -accepted " + day + " renders it again)"
	}
	for _, o := range outs {
		pdf, sum, signedBy := o.PDF, o.SHA256, ""
		if signer != nil {
			if pdf, err = signer.Sign(o.PDF); err != nil {
				fmt.Fprintf(stderr, "carta render: %v\n", err)
				return exitFailure
			}
			digest := sha256.Sum256(pdf)
			sum, signedBy = hex.EncodeToString(digest[:]), ", signed by "+signer.Name()+" (PAdES "+signer.Level()+")"
		}
		if dest == "-" {
			if _, err := stdout.Write(pdf); err != nil {
				fmt.Fprintf(stderr, "carta render: write standard output: %v\n", err)
				return exitFailure
			}
			return exitOK
		}
		path := outputPath(dest, o)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintf(stderr, "carta render: %v\n", err)
			return exitFailure
		}
		if err := writeFileAtomic(path, pdf); err != nil {
			fmt.Fprintf(stderr, "carta render: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "%s: %d pages, %d bytes, sha256 %s%s%s\n", path, o.Pages, len(pdf), sum, signedBy, dated)
	}
	return exitOK
}

// outputPath is where "carta render -o dest" writes output o. A dest
// ending in ".pdf" is the combined letter's path, and the copies go in
// the folder of that name without ".pdf", as in S3 ("out.pdf",
// "out/copy-02-name.pdf"). Any other dest is a folder: every output is
// written under it at its S3 key ("dest/letters/ID.pdf",
// "dest/letters/ID/copy-02-name.pdf").
func outputPath(dest string, o renderer.Output) string {
	if !strings.HasSuffix(dest, ".pdf") {
		return filepath.Join(dest, filepath.FromSlash(o.Key))
	}
	if o.Recipient < 0 {
		return dest
	}
	return filepath.Join(strings.TrimSuffix(dest, ".pdf"), o.Name+".pdf")
}

// acceptedDate is the acceptance date of "carta render": the -accepted
// flag, else $CARTA_ACCEPTED, else now. It dates a job that gives none.
func acceptedDate(flagValue string, lookup func(string) (string, bool)) (time.Time, error) {
	v, name := flagValue, "-accepted"
	if v == "" {
		if e, ok := lookup("CARTA_ACCEPTED"); ok && e != "" {
			v, name = e, "CARTA_ACCEPTED"
		}
	}
	if v == "" {
		return time.Now().UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%s (-accepted, CARTA_ACCEPTED): %q is not a date as YYYY-MM-DD or RFC 3339", name, v)
}

// runValidate implements "carta validate JOB.json".
func runValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", "usage: carta validate JOB.json\n\nDecodes and validates a letter job (- for standard input) without rendering it;\nan invalid job prints one line per problem, \"field: what is wrong\", and exits 2.", stderr)
	paths, code, ok := parseArgs(fs, args, os.LookupEnv, stderr)
	if !ok {
		return code
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitInvalid
	}
	data, err := readJob(paths[0])
	if err != nil {
		fmt.Fprintf(stderr, "carta validate: %v\n", err)
		return exitFailure
	}
	j, err := job.Decode(data)
	if code, done := reportJobError(stderr, "validate", err); done {
		return code
	}
	fmt.Fprintf(stdout, "%s: valid %s job %q\n", paths[0], j.Schema, j.ID)
	return exitOK
}

// reportJobError prints err for command cmd: one line per problem of an
// invalid job (exit 2), or one line for any other failure (exit 1).
func reportJobError(stderr io.Writer, cmd string, err error) (code int, done bool) {
	if err == nil {
		return exitOK, false
	}
	var verr *job.ValidationError
	if errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Fprintln(stderr, p.String()) // "field: message", or the message alone for the whole job
		}
		return exitInvalid, true
	}
	fmt.Fprintf(stderr, "carta %s: %v\n", cmd, err)
	return exitFailure, true
}

// readJob reads a job file, or standard input for "-", refusing files
// larger than the job size limit before reading them whole.
func readJob(path string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read job: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, job.MaxJobBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read job %s: %w", path, err)
	}
	return data, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so a failure never leaves a half-written PDF.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, 0o644)
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("carta render job.json -o out.pdf") and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
