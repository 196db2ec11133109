package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderRequeuedFrom is set on a job requeued from the dead-letter
// stream: "<dead stream>:<sequence>" of the dead letter it came from.
const HeaderRequeuedFrom = "Carta-Requeued-From"

// DeadLetter is one job in the dead-letter stream.
type DeadLetter struct {
	Seq      uint64    // sequence in the dead-letter stream
	ID       string    // job id, "" when the body had none usable
	Time     time.Time // when it was dead-lettered
	Error    string    // Carta-Error: the job's last error
	Attempts int       // Carta-Attempts: deliveries made
	Data     []byte    // the job's original body
}

// DeadFilter selects dead letters: those of the given ids, or with All
// every one; either narrowed to those dead-lettered at or after Since
// and before Until when set. The zero filter selects none.
type DeadFilter struct {
	IDs          []string
	All          bool
	Since, Until time.Time
}

func (f DeadFilter) match(d DeadLetter) bool {
	if !f.All && !slices.Contains(f.IDs, d.ID) {
		return false
	}
	if !f.Since.IsZero() && d.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !d.Time.Before(f.Until) {
		return false
	}
	return true
}

// ListDeadLetters returns the dead letters of c's dead-letter stream
// that f selects, oldest first.
func ListDeadLetters(ctx context.Context, js jetstream.JetStream, c Config, f DeadFilter) ([]DeadLetter, error) {
	c = c.withDefaults()
	s, err := js.Stream(ctx, c.DeadStream)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: stream %s: %w", c.DeadStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: stream %s: %w", c.DeadStream, err)
	}
	var out []DeadLetter
	if info.State.Msgs == 0 {
		return nil, nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted: requeued already
		}
		if err != nil {
			return nil, fmt.Errorf("list dead letters: get %s %d: %w", c.DeadStream, seq, err)
		}
		d := DeadLetter{Seq: m.Sequence, Time: m.Time, Data: m.Data}
		if m.Header != nil {
			d.ID = m.Header.Get(HeaderJobID)
			d.Error = m.Header.Get(HeaderError)
			d.Attempts, _ = strconv.Atoi(m.Header.Get(HeaderAttempts))
		}
		if f.match(d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// Requeue puts dead letter d back on c's jobs subject with its original
// body and removes it from the dead-letter stream. The message id is
// "requeue:<dead stream>:<sequence>", not the job id, so that the jobs
// stream's duplicates window does not drop it as a repeat of the first
// submission, while running Requeue twice for the same dead letter
// queues it once. The job then starts again with all its attempts; its
// recorded failed result stays until the new attempt replaces it.
func Requeue(ctx context.Context, js jetstream.JetStream, c Config, d DeadLetter) error {
	c = c.withDefaults()
	m := nats.NewMsg(c.Subject)
	m.Data = d.Data
	m.Header.Set(HeaderRequeuedFrom, c.DeadStream+":"+strconv.FormatUint(d.Seq, 10))
	msgID := "requeue:" + c.DeadStream + ":" + strconv.FormatUint(d.Seq, 10)
	if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(c.Stream)); err != nil {
		return fmt.Errorf("requeue dead letter %d (job %q): publish to %s: %w", d.Seq, d.ID, c.Subject, err)
	}
	s, err := js.Stream(ctx, c.DeadStream)
	if err == nil {
		if err = s.DeleteMsg(ctx, d.Seq); err != nil {
			// Gone already (requeued by an earlier run) is fine.
			if _, gerr := s.GetMsg(ctx, d.Seq); errors.Is(gerr, jetstream.ErrMsgNotFound) {
				err = nil
			}
		}
	}
	if err != nil {
		return fmt.Errorf("requeue dead letter %d (job %q): queued again, but not removed from %s: %w", d.Seq, d.ID, c.DeadStream, err)
	}
	return nil
}
