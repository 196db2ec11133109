package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// A session cookie is "NAME.EXPIRY.MAC": the token's name, the Unix
// second the session ends, and base64url(HMAC-SHA256(secret, "carta
// session" NUL NAME NUL EXPIRY)) keyed with the token's own secret. It
// never holds the secret: whoever reads the cookie learns the token's
// name, not how to use the API. Every `serve` instance with the same
// tokens accepts it; removing or changing a token ends its sessions at
// once. Signing out deletes the cookie in the browser; a copied cookie
// stays valid until EXPIRY (DefaultCookieMaxAge).

func sessionMAC(secret, name string, expiry int64) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("carta session\x00" + name + "\x00" + strconv.FormatInt(expiry, 10)))
	return m.Sum(nil)
}

// newSession returns the cookie value of a session of the token called
// name, ending at expiry.
func (a *authenticator) newSession(name string, expiry time.Time) string {
	for _, t := range a.tokens {
		if t.name == name {
			e := expiry.Unix()
			return name + "." + strconv.FormatInt(e, 10) + "." + base64.RawURLEncoding.EncodeToString(sessionMAC(t.secret, name, e))
		}
	}
	return ""
}

// session checks a session cookie's value at now.
func (a *authenticator) session(v string, now time.Time) (principal, bool) {
	rest, macText, ok := cutLast(v, ".")
	if !ok {
		return principal{}, false
	}
	name, expText, ok := cutLast(rest, ".")
	if !ok {
		return principal{}, false
	}
	exp, err := strconv.ParseInt(expText, 10, 64)
	if err != nil || now.Unix() >= exp {
		return principal{}, false
	}
	mac, err := base64.RawURLEncoding.DecodeString(macText)
	if err != nil {
		return principal{}, false
	}
	for _, t := range a.tokens {
		if t.name == name && subtle.ConstantTimeCompare(mac, sessionMAC(t.secret, name, exp)) == 1 {
			return principal{name: t.name, roles: t.roles}, true
		}
	}
	return principal{}, false
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
