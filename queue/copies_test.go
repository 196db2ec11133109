package queue_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/sign"
)

// copiesJob returns queuetest.Job(id) with output.copies "per-recipient"
// and three recipients with full addresses.
func copiesJob(t *testing.T, id string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(queuetest.Job(id), &m); err != nil {
		t.Fatal(err)
	}
	m["output"] = map[string]any{"copies": "per-recipient"}
	letter := m["letter"].(map[string]any)
	letter["recipients"] = []map[string]any{
		{"honorific": "Lic.", "name": "Andrés Manuel López Obrador", "title": "Presidente",
			"organization": "Presidencia de la República", "address": []string{"Palacio Nacional", "Plaza de la Constitución s/n", "06066 Ciudad de México"}, "country": "México"},
		{"honorific": "Hon.", "name": "Mélanie Joly", "title": "Ministre des Affaires étrangères",
			"address": []string{"125, promenade Sussex", "Ottawa (Ontario) K1A 0G2"}, "country": "Canada"},
		{"name": "Comitė Ciudadano de Vilnius", "address": []string{"Gedimino pr. 11", "LT-01103 Vilnius"}, "country": "Lietuva"},
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// renderAllLocally renders data as the worker's default renderer does.
func renderAllLocally(t *testing.T, data []byte) (*job.Job, []renderer.Output) {
	t.Helper()
	j, outs, err := queue.RenderAllJSON(data, time.Time{})
	if err != nil {
		t.Fatalf("render locally: %v", err)
	}
	return j, outs
}

func TestPerRecipientCopiesStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	e.startWorker(st, testConfig(t))

	data := copiesJob(t, "copies-1")
	j, want := renderAllLocally(t, data)
	if len(want) != 4 {
		t.Fatalf("local render gave %d outputs, want 4", len(want))
	}
	e.submit(data, "copies-1")
	r := e.waitResult("copies-1")
	if r.Status != client.StatusDone {
		t.Fatalf("result = %+v, want done", r)
	}
	if r.Key != "letters/copies-1.pdf" || r.SHA256 != want[0].SHA256 || r.Bytes != int64(len(want[0].PDF)) || r.Pages != want[0].Pages {
		t.Errorf("combined letter in event = %s %s %d %d, want %s %s %d %d", r.Key, r.SHA256, r.Bytes, r.Pages,
			want[0].Key, want[0].SHA256, len(want[0].PDF), want[0].Pages)
	}
	if r.SignedBy != "" {
		t.Errorf("signed_by = %q for an unsigned worker", r.SignedBy)
	}
	if len(r.Copies) != 3 {
		t.Fatalf("event lists %d copies, want 3: %+v", len(r.Copies), r.Copies)
	}
	for i, c := range r.Copies {
		w := want[i+1]
		if c.Name != renderer.CopyName(j, i) || c.Key != renderer.CopyKey(j, i) || c.Key != w.Key {
			t.Errorf("copy %d name/key = %s %s, want %s %s", i, c.Name, c.Key, w.Name, w.Key)
		}
		if !strings.HasPrefix(c.Key, "letters/copies-1/copy-0"+strconv.Itoa(i+1)+"-") {
			t.Errorf("copy %d key %s is not under the letter's prefix", i, c.Key)
		}
		if c.SHA256 != w.SHA256 || c.Bytes != int64(len(w.PDF)) || c.Pages != w.Pages {
			t.Errorf("copy %d = %s %d %d, local render %s %d %d", i, c.SHA256, c.Bytes, c.Pages, w.SHA256, len(w.PDF), w.Pages)
		}
		if c.Recipient != r.Recipients[i] || c.SignedBy != "" {
			t.Errorf("copy %d recipient %q signed_by %q, want %q and unsigned", i, c.Recipient, c.SignedBy, r.Recipients[i])
		}
	}

	ctx := context.Background()
	keys, err := st.List(ctx, "letters/")
	if err != nil {
		t.Fatal(err)
	}
	var wantKeys []string
	for _, o := range want {
		wantKeys = append(wantKeys, o.Key)
	}
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("objects = %v, want %v", keys, wantKeys)
	}
	jobSHA, err := renderer.CanonicalJobSHA256(j)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range want {
		body, meta, err := st.Get(ctx, o.Key)
		if err != nil {
			t.Fatalf("get %s: %v", o.Key, err)
		}
		if sha(body) != o.SHA256 {
			t.Errorf("%s: stored sha256 %s, local render %s", o.Key, sha(body), o.SHA256)
		}
		wantMeta := map[string]string{
			"carta-job-id":         "copies-1",
			"carta-sha256":         o.SHA256,
			"carta-bytes":          strconv.Itoa(len(o.PDF)),
			"carta-pages":          strconv.Itoa(o.Pages),
			"carta-version":        renderer.Version,
			"carta-job-sha256":     jobSHA,
			"carta-layout":         o.Provenance.Layout,
			"carta-layout-version": o.Provenance.LayoutVersion,
			"carta-fonts":          o.Provenance.Fonts,
		}
		for k, v := range wantMeta {
			if meta[k] != v || v == "" {
				t.Errorf("%s: metadata %s = %q, want %q (not empty)", o.Key, k, meta[k], v)
			}
		}
		if _, ok := meta["carta-signed-by"]; ok {
			t.Errorf("%s: unsigned object has carta-signed-by %q", o.Key, meta["carta-signed-by"])
		}
		if o.Provenance.JobSHA256 != jobSHA {
			t.Errorf("%s: provenance job sha256 %s, canonical %s", o.Key, o.Provenance.JobSHA256, jobSHA)
		}
	}
	e.waitSettled()
}

// fakeSigner appends a comment that differs on every call, as a real
// signature's signing time does.
type fakeSigner struct {
	name  string
	calls atomic.Int64
	fail  error
}

func (s *fakeSigner) Name() string { return s.name }
func (s *fakeSigner) Sign(pdf []byte) ([]byte, error) {
	n := s.calls.Add(1)
	if s.fail != nil {
		return nil, s.fail
	}
	return append(slices.Clip(pdf), []byte("% signed "+strconv.FormatInt(n, 10)+"\n")...), nil
}

// inPlaceSigner signs in the renderer's own slice, as a signer filling a
// reserved /Contents placeholder would: same start, same length, other
// bytes.
type inPlaceSigner struct{}

func (inPlaceSigner) Name() string { return "in place" }
func (inPlaceSigner) Sign(pdf []byte) ([]byte, error) {
	pdf[len(pdf)/2] ^= 0x20
	return pdf, nil
}

// TestInPlaceSignerReportsStoredHash: the renderer's sha256 is reused
// only for an unsigned PDF, so a signer that changes the slice it was
// given still gets the stored body's sha256 in the event and metadata
// (and the store, which checks the hash, accepts the upload).
func TestInPlaceSignerReportsStoredHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Signer = inPlaceSigner{}
	st := newMemStore()
	e.startWorker(st, cfg)
	e.submit(queuetest.Job("inplace-1"), "inplace-1")
	res := e.waitResult("inplace-1")
	if res.Status != client.StatusDone {
		t.Fatalf("result = %+v, want done", res)
	}
	st.mu.Lock()
	obj := st.objects[res.Key]
	st.mu.Unlock()
	if got := sha(obj.Body); got != res.SHA256 || obj.Metadata[queue.MetaSHA256] != got || obj.SHA256 != got {
		t.Errorf("stored body sha256 %s; event %s, metadata %s, sent %s", got, res.SHA256, obj.Metadata[queue.MetaSHA256], obj.SHA256)
	}
	e.waitSettled()
}

// TestSignedRedeliveryKeepsStoredObject: a job whose objects are already
// stored by an earlier, signed delivery is done with the stored objects,
// though this delivery's signatures differ.
func TestSignedRedeliveryKeepsStoredObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	signer := &fakeSigner{name: "Comitė Ciudadano"}
	cfg.Signer = signer
	st := newMemStore()
	e.startWorker(st, cfg)

	data := copiesJob(t, "resign-1")
	e.submit(data, "resign-1")
	first := e.waitResult("resign-1")
	if first.Status != client.StatusDone || first.SignedBy != "Comitė Ciudadano" || len(first.Copies) != 3 {
		t.Fatalf("first result = %+v", first)
	}
	stored := map[string][]byte{}
	for _, k := range append([]string{first.Key}, first.Copies[0].Key, first.Copies[1].Key, first.Copies[2].Key) {
		st.mu.Lock()
		stored[k] = st.objects[k].Body
		st.mu.Unlock()
	}
	if got := sha(stored[first.Key]); got != first.SHA256 {
		t.Errorf("event sha256 %s, stored %s", first.SHA256, got)
	}
	if int64(len(stored[first.Key])) != first.Bytes {
		t.Errorf("event bytes %d, stored %d", first.Bytes, len(stored[first.Key]))
	}

	// Forget the result, so that the next delivery renders and signs
	// again, and submit the job again (a new message id).
	kv, err := e.js.KeyValue(context.Background(), queue.DefaultResultsBucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(context.Background(), queue.Token("resign-1")); err != nil {
		t.Fatal(err)
	}
	before := signer.calls.Load()
	e.submit(data, "")
	second := e.waitResults("resign-1", 2)[1]
	if signer.calls.Load() == before {
		t.Fatal("the second delivery did not sign again")
	}
	if second.Status != client.StatusDone || second.SHA256 != first.SHA256 || second.Bytes != first.Bytes || second.SignedBy != first.SignedBy {
		t.Errorf("second result %+v, want the stored letter of %+v", second, first)
	}
	for i, c := range second.Copies {
		if c.SHA256 != first.Copies[i].SHA256 || c.Bytes != first.Copies[i].Bytes {
			t.Errorf("copy %d: second event %+v, first %+v", i, c, first.Copies[i])
		}
	}
	for k, body := range stored {
		st.mu.Lock()
		now := st.objects[k].Body
		st.mu.Unlock()
		if string(now) != string(body) {
			t.Errorf("%s was replaced", k)
		}
	}
	if st.len() != 4 {
		t.Errorf("%d objects, want 4", st.len())
	}
	e.waitSettled()
}

// TestSigningFailureRetriedThenDeadLettered: a signer that fails is a
// configuration problem: the job is retried with backoff, then
// dead-lettered, and nothing is stored unsigned.
func TestSigningFailureRetriedThenDeadLettered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Render = fakeRender(nil)
	signer := &fakeSigner{name: "x", fail: errors.New("load key: certificate expired")}
	cfg.Signer = signer
	st := newMemStore()
	e.startWorker(st, cfg)
	e.submit(queuetest.Job("signfail-1"), "signfail-1")
	r := e.waitResult("signfail-1")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeInternal || !strings.Contains(r.Error.Message, "certificate expired") {
		t.Fatalf("result = %+v, want failed internal naming the signing error", r)
	}
	if r.Attempts != cfg.MaxDeliver || signer.calls.Load() != int64(cfg.MaxDeliver) {
		t.Errorf("attempts %d, sign calls %d, want %d each", r.Attempts, signer.calls.Load(), cfg.MaxDeliver)
	}
	if st.len() != 0 {
		t.Errorf("%d objects stored, want none", st.len())
	}
	e.waitSettled()
	if dl := e.deadLetters("signfail-1"); len(dl) != 1 || !strings.Contains(dl[0].Header.Get(queue.HeaderError), "sign") {
		t.Errorf("dead letters = %v, want one naming the signing error", dl)
	}
}

// TestMetadataValue: values that are not ASCII survive S3 metadata as
// RFC 2047 encoded words.
func TestMetadataValue(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain ASCII as it is", "Liberation Serif 2.1.4", "Liberation Serif 2.1.4"},
		{"encoded word", "=?utf-8?b?Q29taXTElyBDaXVkYWRhbm8=?=", "Comitė Ciudadano"},
		{"not an encoded word", "a=?b", "a=?b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := queue.MetadataValue(tt.in); got != tt.want {
				t.Errorf("MetadataValue(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// testSigner is a sign.Signer with a throwaway CA and a leaf certificate
// for commonName, made at test time.
func testSigner(t *testing.T, commonName string) *sign.Signer {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Carta Queue Test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: commonName, Organization: []string{"Comitė Ciudadano"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certs := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	if err := os.WriteFile(certFile, certs, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(sign.Config{CertFile: certFile, KeyFile: keyFile, Reason: "Carta queue test"})
	if err != nil {
		t.Fatalf("load test signer: %v", err)
	}
	return s
}

var pdfsigMu sync.Mutex // one pdfsig at a time: the machine is small

// pdfsig runs pdfsig on data and returns its output; it skips the test
// when pdfsig is missing, except in CI.
func pdfsig(t *testing.T, data []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdfsig")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pdfsig (poppler-utils) is required in CI: %v", err)
		}
		t.Skip("pdfsig not installed")
	}
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	pdfsigMu.Lock()
	defer pdfsigMu.Unlock()
	out, _ := exec.Command(bin, path).CombinedOutput()
	return string(out)
}

func TestSignedLetterStored(t *testing.T) {
	t.Parallel()
	const signerName = "Comitė Ciudadano (queue test)"
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	cfg := testConfig(t)
	cfg.Signer = testSigner(t, signerName)
	e.startWorker(st, cfg)

	data := copiesJob(t, "signed-1")
	_, unsigned := renderAllLocally(t, data)
	e.submit(data, "signed-1")
	r := e.waitResult("signed-1")
	if r.Status != client.StatusDone {
		t.Fatalf("result = %+v, want done", r)
	}
	if r.SignedBy != signerName {
		t.Errorf("signed_by = %q, want %q", r.SignedBy, signerName)
	}
	if len(r.Copies) != 3 {
		t.Fatalf("%d copies, want 3", len(r.Copies))
	}
	type obj struct{ key, sha, signedBy string }
	objs := []obj{{r.Key, r.SHA256, r.SignedBy}}
	for _, c := range r.Copies {
		objs = append(objs, obj{c.Key, c.SHA256, c.SignedBy})
	}
	ctx := context.Background()
	for i, o := range objs {
		body, meta, err := st.Get(ctx, o.key)
		if err != nil {
			t.Fatalf("get %s: %v", o.key, err)
		}
		if sha(body) != o.sha || meta["carta-sha256"] != o.sha || meta["carta-bytes"] != strconv.Itoa(len(body)) {
			t.Errorf("%s: stored sha256 %s, event %s, metadata %s, carta-bytes %s (len %d)", o.key, sha(body), o.sha, meta["carta-sha256"], meta["carta-bytes"], len(body))
		}
		if o.sha == unsigned[i].SHA256 || !strings.HasPrefix(string(body), string(unsigned[i].PDF)) {
			t.Errorf("%s: stored object is not the unsigned render plus a signature", o.key)
		}
		if o.signedBy != signerName || queue.MetadataValue(meta["carta-signed-by"]) != signerName {
			t.Errorf("%s: signed_by %q, metadata carta-signed-by %q, want %q", o.key, o.signedBy, meta["carta-signed-by"], signerName)
		}
		if i > 1 {
			continue // pdfsig on the letter and one copy is enough
		}
		out := pdfsig(t, body)
		for _, w := range []string{"Signature Validation: Signature is Valid.", "Total document signed", "Signer Certificate Common Name: " + signerName} {
			if !strings.Contains(out, w) {
				t.Errorf("%s: pdfsig output lacks %q:\n%s", o.key, w, out)
			}
		}
	}
	e.waitSettled()
}
