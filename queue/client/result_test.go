package client_test

import (
	"encoding/json"
	"testing"

	"github.com/carta-letters/carta/queue/client"
)

// TestResultCopiesJSON pins the names of the issue-6 additions: signed_by
// and copies, both left out when empty.
func TestResultCopiesJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   client.Result
		want string
	}{
		{"unsigned letter without copies leaves both out", client.Result{ID: "a", Status: client.StatusDone},
			`{"id":"a","status":"done","bucket":"","key":"","sha256":"","bytes":0,"pages":0,"attempts":0,"render_ms":0,"total_ms":0,"carta_version":"","title":"","recipients":null,"finished_at":"0001-01-01T00:00:00Z"}`},
		{"signed letter with a copy", client.Result{ID: "b", Status: client.StatusDone, SignedBy: "Comitė Ciudadano",
			Copies: []client.Copy{{Name: "copy-01-melanie-joly", Key: "letters/b/copy-01-melanie-joly.pdf", SHA256: "ab", Bytes: 9, Pages: 2, Recipient: "Mélanie Joly", SignedBy: "Comitė Ciudadano"}}},
			`{"id":"b","status":"done","bucket":"","key":"","sha256":"","bytes":0,"pages":0,"attempts":0,"render_ms":0,"total_ms":0,"carta_version":"","title":"","recipients":null,"finished_at":"0001-01-01T00:00:00Z",` +
				`"signed_by":"Comitė Ciudadano","copies":[{"name":"copy-01-melanie-joly","key":"letters/b/copy-01-melanie-joly.pdf","sha256":"ab","bytes":9,"pages":2,"recipient":"Mélanie Joly","signed_by":"Comitė Ciudadano"}]}`},
		{"unsigned copy leaves signed_by out", client.Result{ID: "c", Status: client.StatusDone, Copies: []client.Copy{{Name: "copy-01-x", Key: "k", Recipient: "X"}}},
			`{"id":"c","status":"done","bucket":"","key":"","sha256":"","bytes":0,"pages":0,"attempts":0,"render_ms":0,"total_ms":0,"carta_version":"","title":"","recipients":null,"finished_at":"0001-01-01T00:00:00Z",` +
				`"copies":[{"name":"copy-01-x","key":"k","sha256":"","bytes":0,"pages":0,"recipient":"X"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("json = %s\nwant   %s", got, tt.want)
			}
			var back client.Result
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if back.SignedBy != tt.in.SignedBy || len(back.Copies) != len(tt.in.Copies) || (len(back.Copies) > 0 && back.Copies[0] != tt.in.Copies[0]) {
				t.Errorf("round trip = %+v, want %+v", back, tt.in)
			}
		})
	}
}
