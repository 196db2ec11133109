package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/sign/signtest"
)

const referenceJob = "../../../shared/jobs/nals-2023.json"

func TestRenderCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		job        string // job file content; empty means the reference job
		args       func(jobPath, outPath string) []string
		wantCode   int
		wantStderr []string
		wantFile   bool
	}{
		{
			name:     "reference job renders with -o after the job",
			args:     func(j, o string) []string { return []string{"render", j, "-o", o} },
			wantCode: exitOK, wantFile: true,
		},
		{
			name:     "empty recipient name is refused with its field",
			job:      `{"schema":"letter/v1","id":"x","letterhead":{"name":"A"},"letter":{"recipients":[{"name":""}],"salutation":"Dear,","body":[{"text":"Hi"}],"closing":"Bye"}}`,
			args:     func(j, o string) []string { return []string{"render", "-o", o, j} },
			wantCode: exitInvalid, wantStderr: []string{"letter.recipients[0].name: "},
		},
		{
			name:     "unknown field is refused",
			job:      `{"schema":"letter/v1","id":"x","letterhead":{"name":"A"},"letter":{"recipents":[],"salutation":"Dear,","body":[{"text":"Hi"}],"closing":"Bye"}}`,
			args:     func(j, o string) []string { return []string{"render", j, "-o", o} },
			wantCode: exitInvalid, wantStderr: []string{"letter.recipents"},
		},
		{
			name:     "syntax error is refused",
			job:      `{"schema": "letter/v1",`,
			args:     func(j, o string) []string { return []string{"render", j, "-o", o} },
			wantCode: exitInvalid,
		},
		{
			name:     "missing job file is an ordinary failure",
			args:     func(j, o string) []string { return []string{"render", j + ".missing", "-o", o} },
			wantCode: exitFailure, wantStderr: []string{"no such file"},
		},
		{
			name:     "validate accepts the reference job",
			args:     func(j, o string) []string { return []string{"validate", j} },
			wantCode: exitOK,
		},
		{
			name:     "validate refuses an emoji naming field and code point",
			job:      `{"schema":"letter/v1","id":"x","letterhead":{"name":"A"},"letter":{"recipients":[{"name":"B 🙂"}],"salutation":"Dear,","body":[{"text":"Hi"}],"closing":"Bye"}}`,
			args:     func(j, o string) []string { return []string{"validate", j} },
			wantCode: exitInvalid, wantStderr: []string{"letter.recipients[0].name", "U+1F642"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			jobPath, outPath := referenceJob, filepath.Join(dir, "out.pdf")
			if tc.job != "" {
				jobPath = filepath.Join(dir, "job.json")
				if err := os.WriteFile(jobPath, []byte(tc.job), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args(jobPath, outPath), &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q does not contain %q", stderr.String(), want)
				}
			}
			data, err := os.ReadFile(outPath)
			if tc.wantFile {
				if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) {
					t.Fatalf("no PDF written at %s: %v", outPath, err)
				}
			} else if err == nil {
				t.Fatalf("a file was written at %s for a failed run", outPath)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Errorf("temporary file left behind: %s", e.Name())
				}
			}
		})
	}
}

// TestRenderSigned: "carta render" with a PEM certificate and key writes a
// signed letter that pdfsig finds valid and wholly signed, and says so.
func TestRenderSigned(t *testing.T) {
	t.Parallel()
	pdfsig, err := exec.LookPath("pdfsig")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pdfsig (poppler-utils) is required in CI: %v", err)
		}
		t.Skip("pdfsig not installed")
	}
	certFile, keyFile := writeSigningPEM(t)
	out := filepath.Join(t.TempDir(), "signed.pdf")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"render", referenceJob, "-o", out, "-sign-cert", certFile, "-sign-key", keyFile, "-sign-reason", "Joint letter"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "signed by Comitė Ciudadano") {
		t.Errorf("stdout %q does not name the signer", stdout.String())
	}
	report, _ := exec.Command(pdfsig, out).CombinedOutput()
	for _, want := range []string{"Signature Validation: Signature is Valid.", "Total document signed", "ETSI.CAdES.detached"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("pdfsig output lacks %q:\n%s", want, report)
		}
	}
}

// TestRenderSignedLTA: "carta render" with a TSA, -sign-ltv and
// -sign-lta writes a B-LTA letter and says so.
func TestRenderSignedLTA(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	out := filepath.Join(t.TempDir(), "signed.pdf")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"render", referenceJob, "-o", out, "-sign-cert", a.CertFile, "-sign-key", a.KeyFile,
		"-sign-tsa-url", a.TSAURL, "-sign-tsa-ca", a.TSARootFile, "-sign-ltv", "-sign-lta"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	if want := "signed by " + signtest.SignerName + " (PAdES B-LTA)"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q lacks %q", stdout.String(), want)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"/SubFilter /ETSI.CAdES.detached", "/Type /DSS", "/SubFilter /ETSI.RFC3161"} {
		if !bytes.Contains(data, []byte(w)) {
			t.Errorf("the letter lacks %s", w)
		}
	}
	if a.TSARequests.Load() != 2 || a.OCSPRequests.Load() < 2 || a.CRLRequests.Load() < 1 {
		t.Errorf("TSA %d, OCSP %d, CRL %d requests; want 2 timestamps and the revocation data", a.TSARequests.Load(), a.OCSPRequests.Load(), a.CRLRequests.Load())
	}
}
