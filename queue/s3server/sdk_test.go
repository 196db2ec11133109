package s3server_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/queuetest"
)

// TestWithAWSSDK drives the server through queue/s3store (aws-sdk-go-v2),
// the client the workers use.
func TestWithAWSSDK(t *testing.T) {
	t.Parallel()
	_, url := start(t, t.TempDir())
	ctx := context.Background()
	st := queuetest.Store(t, url, "letters", nil, true)
	if err := st.CreateBucket(ctx); err != nil {
		t.Fatalf("create existing bucket: %v", err)
	}
	pdf := bytes.Repeat([]byte("%PDF Comitė Ciudadano "), 5000)
	md := map[string]string{"carta-job-id": "nals-2023", "carta-pages": "7"}
	obj := queue.Object{Key: "letters/nals-2023.pdf", Body: pdf, ContentType: "application/pdf", Metadata: md}

	if err := st.PutIfAbsent(ctx, obj); err != nil {
		t.Fatalf("first put: %v", err)
	}
	obj.Body = []byte("different")
	if err := st.PutIfAbsent(ctx, obj); !errors.Is(err, queue.ErrObjectExists) {
		t.Fatalf("second put: %v, want ErrObjectExists", err)
	}
	got, gotMD, err := st.Get(ctx, "letters/nals-2023.pdf")
	if err != nil || !bytes.Equal(got, pdf) || !reflect.DeepEqual(gotMD, md) {
		t.Fatalf("get = %d bytes, %v, %v", len(got), gotMD, err)
	}
	if hd, err := st.Head(ctx, "letters/nals-2023.pdf"); err != nil || !reflect.DeepEqual(hd, md) {
		t.Fatalf("head = %v, %v", hd, err)
	}
	if _, err := st.Head(ctx, "letters/missing.pdf"); !errors.Is(err, queue.ErrObjectNotFound) {
		t.Fatalf("head missing = %v, want ErrObjectNotFound", err)
	}
	if _, _, err := st.Get(ctx, "letters/missing.pdf"); !errors.Is(err, queue.ErrObjectNotFound) {
		t.Fatalf("get missing = %v, want ErrObjectNotFound", err)
	}
	keys, err := st.List(ctx, "letters/")
	if err != nil || !reflect.DeepEqual(keys, []string{"letters/nals-2023.pdf"}) {
		t.Fatalf("list = %v, %v", keys, err)
	}
}
