package queue

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// NATSOptions says how to reach NATS.
type NATSOptions struct {
	URL       string // one or more server URLs, comma-separated [nats.DefaultURL "nats://127.0.0.1:4222"]
	Name      string // connection name shown by the server ["carta"]
	CredsFile string // a .creds file (user JWT and NKey seed), optional
	NKeyFile  string // an NKey seed file, optional; not together with CredsFile
	TLSCA     string // PEM file of CAs trusted for the server's certificate, optional
	TLSCert   string // PEM client certificate, optional; needs TLSKey
	TLSKey    string // PEM key of TLSCert
	Logger    *slog.Logger
}

// Connect opens a NATS connection that reconnects forever, with jittered
// backoff, and logs disconnects and reconnects.
func Connect(o NATSOptions) (*nats.Conn, error) {
	if o.URL == "" {
		o.URL = nats.DefaultURL
	}
	if o.Name == "" {
		o.Name = "carta"
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, 2*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			log.Error("nats error", "subject", subj, "err", err)
		}),
	}
	if o.CredsFile != "" && o.NKeyFile != "" {
		return nil, errors.New("connect nats: give a credentials file or an NKey seed file, not both")
	}
	if o.CredsFile != "" {
		if _, err := os.Stat(o.CredsFile); err != nil {
			return nil, fmt.Errorf("connect nats: credentials file: %w", err)
		}
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	}
	if o.NKeyFile != "" {
		opt, err := nats.NkeyOptionFromSeed(o.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("connect nats: nkey seed file: %w", err)
		}
		opts = append(opts, opt)
	}
	if o.TLSCA != "" || o.TLSCert != "" || o.TLSKey != "" {
		tc, err := tlsConfig(o.TLSCA, o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("connect nats: %w", err)
		}
		opts = append(opts, nats.Secure(tc))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return nil, &redactedError{msg: redactSecrets(fmt.Sprintf("connect nats %s: %v", redactURLs(o.URL), err), o.URL), err: err}
	}
	return nc, nil
}

func tlsConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read tls ca %s: no PEM certificate found", caFile)
		}
		tc.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("load tls client certificate: give both the certificate and its key")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// redactURLs returns a comma-separated list of server URLs with the user
// information (user, password or token) of each replaced by "REDACTED".
// A URL that does not parse loses anything between "//" and the last "@"
// before its host.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = redactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		if u.User != nil {
			u.User = url.User("REDACTED")
		}
		return u.String()
	}
	start := 0
	if i := strings.Index(s, "//"); i >= 0 {
		start = i + 2
	}
	end := len(s)
	if i := strings.IndexAny(s[start:], "/?#"); i >= 0 {
		end = start + i
	}
	if at := strings.LastIndex(s[start:end], "@"); at >= 0 {
		return s[:start] + "REDACTED" + s[start+at:]
	}
	return s
}

// redactSecrets removes from msg the user information of every URL in
// list, in case an error of the NATS client quotes a URL as given.
func redactSecrets(msg, list string) string {
	for p := range strings.SplitSeq(list, ",") {
		p = strings.TrimSpace(p)
		if r := redactURL(p); r != p {
			msg = strings.ReplaceAll(msg, p, r)
		}
		if u, err := url.Parse(p); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				msg = strings.ReplaceAll(msg, pw, "REDACTED")
			}
		}
	}
	return msg
}

// redactedError is an error whose text has secrets removed; it still
// wraps the original error for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
