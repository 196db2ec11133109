package queue

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestValidIDAndToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id    string
		valid bool
		token string
	}{
		{"nals-2023", true, "nals-2023"},
		{"a.b_c", true, "a.b_c"},
		{"ends.", true, "ends=2E"},
		{"a..b", true, "a=2E=2Eb"},
		{".hidden", false, ""},
		{"", false, ""},
		{"has space", false, ""},
		{"ñ", false, ""},
		{string(make([]byte, 129)), false, ""},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.valid {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.valid)
		}
		if tt.valid {
			if got := Token(tt.id); got != tt.token {
				t.Errorf("Token(%q) = %q, want %q", tt.id, got, tt.token)
			}
		}
	}
	if got := ResultSubject("carta.results", "x.y"); got != "carta.results.x.y" {
		t.Errorf("ResultSubject = %q", got)
	}
}

func TestCheckKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key string
		ok  bool
	}{
		{"letters/x.pdf", true},
		{"2023/ministerio/carta-1.pdf", true},
		{"/abs.pdf", false},
		{"a/../b.pdf", false},
		{"a\nb.pdf", false},
		{"a\u0085b.pdf", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := checkKey(tt.key) == ""; got != tt.ok {
			t.Errorf("checkKey(%q) ok = %v, want %v", tt.key, got, tt.ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	c := Config{RetryBase: time.Second, RetryMax: 5 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := c.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestConfigStreams(t *testing.T) {
	t.Parallel()
	c := Config{}
	js := c.JobsStreamConfig()
	if js.Discard != jetstream.DiscardNew || js.Retention != jetstream.WorkQueuePolicy || js.Duplicates != DefaultDuplicates || js.MaxMsgs <= 0 || js.MaxBytes <= 0 || js.MaxMsgSize <= 0 {
		t.Errorf("jobs stream config = %+v", js)
	}
	cc := c.ConsumerConfig()
	if cc.Durable != DefaultConsumer || cc.AckWait != DefaultAckWait || cc.MaxDeliver != -1 || cc.AckPolicy != jetstream.AckExplicitPolicy {
		t.Errorf("consumer config = %+v", cc)
	}
}
