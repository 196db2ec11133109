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

	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// runRender implements "carta render JOB.json [-o OUT.pdf]".
func runRender(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("render", "usage: carta render JOB.json [-o OUT.pdf] [signing flags]", stderr)
	out := fs.String("o", "", "output PDF path (default: the job file's name with .pdf, in the current folder; - for standard output)")
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
	_, res, err := renderer.RenderJSON(data)
	if code, done := reportJobError(stderr, "render", err); done {
		return code
	}
	pdf, sum, signedBy := res.PDF, res.SHA256, ""
	if signer != nil {
		if pdf, err = signer.Sign(res.PDF); err != nil {
			fmt.Fprintf(stderr, "carta render: %v\n", err)
			return exitFailure
		}
		digest := sha256.Sum256(pdf)
		sum, signedBy = hex.EncodeToString(digest[:]), ", signed by "+signer.Name()
	}
	dest := *out
	if dest == "" {
		base := filepath.Base(paths[0])
		if paths[0] == "-" {
			base = "letter.json"
		}
		dest = strings.TrimSuffix(base, filepath.Ext(base)) + ".pdf"
	}
	if dest == "-" {
		if _, err := stdout.Write(pdf); err != nil {
			fmt.Fprintf(stderr, "carta render: write standard output: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	if err := writeFileAtomic(dest, pdf); err != nil {
		fmt.Fprintf(stderr, "carta render: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s: %d pages, %d bytes, sha256 %s%s\n", dest, res.Pages, len(pdf), sum, signedBy)
	return exitOK
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
