package queue

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue/client"
)

// keepJob records the body of the job the worker is about to work on in
// the jobs bucket (Config.JobsBucket) under client.JobKey(id), the key
// the HTTP API reads for the staff page's preview, so that jobs
// published straight on NATS (client.Submit, carta submit, other
// services) have a preview as those queued over HTTP do. It is called
// once the worker knows it will lay the job out (not for a job whose
// recorded result is done, whose preview must stay the letter's), for
// valid and invalid jobs alike, as long as they have an id.
//
// It runs in the background: it never fails or delays the job. Each
// JetStream call goes through natsCall (Config.NATSTimeout, fails at
// once on a lost connection, tried again after a reconnect). A failure
// costs only the preview; it is logged at warn once, on the first
// failure after a success, and at debug while the bucket keeps failing.
//
// The body is written only when the bucket does not hold exactly these
// bytes: one Get, then a Put when needed. So a redelivery, or a job the
// API kept already, costs a read and no write. The API keeps the body
// just after publishing it, so a worker that takes the job within that
// moment may write the same bytes once more: harmless.
func (w *Worker) keepJob(ctx context.Context, id string, data []byte) {
	if id == "" || w.jobsKV == nil {
		return
	}
	w.keeping.Add(1)
	go func() {
		defer w.keeping.Done()
		wrote, err := w.putJob(ctx, id, data)
		log := w.log.With("job_id", id, "bucket", w.cfg.JobsBucket)
		switch {
		case err != nil && !w.keepFailing.Swap(true):
			log.Warn("keep job JSON for its preview: failed; the job goes on without a preview (logged once until it works again)", "err", err.Error())
		case err != nil:
			log.Debug("keep job JSON for its preview: failed", "err", err.Error())
		case w.keepFailing.Swap(false):
			log.Info("keep job JSON for its preview: works again", "written", wrote)
		}
	}()
}

// putJob writes data under id's key unless the bucket holds it already;
// it reports whether it wrote.
func (w *Worker) putJob(ctx context.Context, id string, data []byte) (bool, error) {
	key := client.JobKey(id)
	var held []byte
	err := w.natsCall(ctx, "get job "+key, func(ctx context.Context) error {
		e, err := w.jobsKV.Get(ctx, key)
		if err == nil {
			held = e.Value()
		}
		return err
	})
	switch {
	case err == nil && bytes.Equal(held, data):
		return false, nil
	case err != nil && !errors.Is(err, jetstream.ErrKeyNotFound):
		return false, err
	}
	err = w.natsCall(ctx, "put job "+key, func(ctx context.Context) error {
		_, err := w.jobsKV.Put(ctx, key, data)
		return err
	})
	return err == nil, err
}

// waitKeeping waits for the keepJob calls still running, at most
// Config.NATSTimeout, then cancels them with stop and waits for them to
// return.
func (w *Worker) waitKeeping(stop context.CancelFunc) {
	done := make(chan struct{})
	go func() { w.keeping.Wait(); close(done) }()
	t := time.NewTimer(w.cfg.NATSTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		stop()
		<-done
	}
	stop()
}
