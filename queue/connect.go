package queue

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
		return nil, fmt.Errorf("connect nats %s: %w", o.URL, err)
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
