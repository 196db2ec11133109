package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Role is a permission a token grants.
type Role string

// The two roles. submit does not imply read; see the package doc.
const (
	RoleSubmit Role = "submit" // submit jobs and follow their status
	RoleRead   Role = "read"   // read statuses, list and download letters, use the staff page
)

// MinSecretLen is the shortest token secret accepted: 32 characters.
// A secret must also have some variety (see checkSecret): at least
// MinSecretDistinct different characters, none making up more than a
// quarter of it, and not mostly a run ("abcdef…", "ababab…").
const MinSecretLen = 32

// MinSecretDistinct is how many different characters a secret needs.
const MinSecretDistinct = 10

// Token is one configured bearer token.
type Token struct {
	Name   string // who holds it, for logs (never the secret)
	Roles  []Role // what it may do
	Secret string // the bearer secret: at least MinSecretLen of A-Z a-z 0-9 . _ ~ + / = -, varied
}

// cookieName is the cookie the sign-in form sets. It holds a signed
// session (see session.go), never the token.
const cookieName = "carta_session"

// ParseTokens parses a token list: entries "name:roles:secret" separated
// by commas or newlines, roles being "submit", "read" or both joined
// with "+" ("submit+read"). Blank entries and lines starting with "#" are
// skipped. For example:
//
//	billing:submit:3f9c1e…,staff:read:a81d0b…
func ParseTokens(s string) ([]Token, error) {
	var out []Token
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	names := map[string]bool{}
	secrets := map[string]bool{}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		for i, entry := range strings.Split(text, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			t, err := parseToken(entry)
			if err != nil {
				return nil, fmt.Errorf("parse tokens: line %d entry %d: %w", line, i+1, err)
			}
			if names[t.Name] {
				return nil, fmt.Errorf("parse tokens: line %d entry %d: name %q is used twice", line, i+1, t.Name)
			}
			if secrets[t.Secret] {
				return nil, fmt.Errorf("parse tokens: line %d entry %d (%s): secret is used by another token", line, i+1, t.Name)
			}
			names[t.Name], secrets[t.Secret] = true, true
			out = append(out, t)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse tokens: %w", err)
	}
	return out, nil
}

// LoadTokensFile reads a token list (see ParseTokens) from a file.
func LoadTokensFile(path string) ([]Token, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokens: %w", err)
	}
	toks, err := ParseTokens(string(data))
	if err != nil {
		return nil, fmt.Errorf("load tokens %s: %w", path, err)
	}
	return toks, nil
}

func parseToken(entry string) (Token, error) {
	parts := strings.SplitN(entry, ":", 3)
	if len(parts) != 3 {
		return Token{}, errors.New(`want "name:roles:secret"`)
	}
	t := Token{Name: strings.TrimSpace(parts[0]), Secret: strings.TrimSpace(parts[2])}
	if t.Name == "" || strings.ContainsFunc(t.Name, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return Token{}, errors.New("name: must be non-empty, without spaces or control characters")
	}
	if t.Name == "anonymous" {
		return Token{}, errors.New(`name: "anonymous" is reserved`)
	}
	for _, r := range strings.Split(parts[1], "+") {
		switch Role(strings.TrimSpace(r)) {
		case RoleSubmit:
			t.Roles = append(t.Roles, RoleSubmit)
		case RoleRead:
			t.Roles = append(t.Roles, RoleRead)
		default:
			return Token{}, fmt.Errorf("%s: role %q: want submit, read or submit+read", t.Name, r)
		}
	}
	if err := checkSecret(t.Secret); err != nil {
		return Token{}, fmt.Errorf("%s: secret: %w", t.Name, err)
	}
	return t, nil
}

func checkSecret(s string) error {
	if len(s) < MinSecretLen {
		return fmt.Errorf("is %d characters; it must be at least %d (make one with `openssl rand -hex 24`)", len(s), MinSecretLen)
	}
	for i := 0; i < len(s); i++ {
		if !secretByte(s[i]) {
			return errors.New("may only use A-Z a-z 0-9 . _ ~ + / = -")
		}
	}
	var count [256]int
	distinct, most := 0, 0
	for i := 0; i < len(s); i++ {
		if count[s[i]] == 0 {
			distinct++
		}
		count[s[i]]++
		most = max(most, count[s[i]])
	}
	// A run: the step from one character to the next repeats the step
	// before it ("abcd", "aaaa"). A pattern: most characters equal the
	// one p places before, for some period p ("a1b2c3a1b2c3").
	runs := 0
	for i := 2; i < len(s); i++ {
		if int(s[i])-int(s[i-1]) == int(s[i-1])-int(s[i-2]) {
			runs++
		}
	}
	for p := 2; p <= len(s)/2; p++ {
		same := 0
		for i := p; i < len(s); i++ {
			if s[i] == s[i-p] {
				same++
			}
		}
		runs = max(runs, same)
	}
	switch {
	case distinct < MinSecretDistinct:
		return fmt.Errorf("has only %d different characters; it needs at least %d (make one with `openssl rand -hex 24`)", distinct, MinSecretDistinct)
	case most*4 > len(s):
		return fmt.Errorf("repeats one character %d times in %d; make a random one with `openssl rand -hex 24`", most, len(s))
	case runs*2 > len(s):
		return errors.New("is mostly a sequence or a repeated pattern; make a random one with `openssl rand -hex 24`")
	}
	return nil
}

func secretByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '-'
}

// roleSet is a set of roles as bits.
type roleSet uint8

const (
	canSubmit roleSet = 1 << iota
	canRead
)

func rolesOf(rs []Role) roleSet {
	var s roleSet
	for _, r := range rs {
		switch r {
		case RoleSubmit:
			s |= canSubmit
		case RoleRead:
			s |= canRead
		}
	}
	return s
}

func (s roleSet) String() string {
	switch s {
	case canSubmit:
		return "submit"
	case canRead:
		return "read"
	case canSubmit | canRead:
		return "submit+read"
	}
	return "none"
}

// principal is who a request comes from.
type principal struct {
	name  string
	roles roleSet
}

type storedToken struct {
	name   string
	roles  roleSet
	digest [sha256.Size]byte
	secret string // the key of the token's signed sessions (session.go)
}

// authenticator checks secrets against the configured tokens.
type authenticator struct {
	tokens    []storedToken
	anonymous bool
}

func newAuthenticator(toks []Token, anonymous bool) (*authenticator, error) {
	a := &authenticator{anonymous: anonymous}
	for _, t := range toks {
		if err := checkSecret(t.Secret); err != nil {
			return nil, fmt.Errorf("check token %s: secret: %w", t.Name, err)
		}
		rs := rolesOf(t.Roles)
		if rs == 0 {
			return nil, fmt.Errorf("check token %s: it has no role", t.Name)
		}
		a.tokens = append(a.tokens, storedToken{name: t.Name, roles: rs, digest: sha256.Sum256([]byte(t.Secret)), secret: t.Secret})
	}
	return a, nil
}

// match returns the token whose secret is secret. It compares the SHA-256
// digests of all configured secrets in constant time, without stopping
// at the first match, so timing tells nothing about which or how much
// of a secret matched.
func (a *authenticator) match(secret string) (principal, bool) {
	d := sha256.Sum256([]byte(secret))
	found := -1
	for i := range a.tokens {
		eq := subtle.ConstantTimeCompare(d[:], a.tokens[i].digest[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 || secret == "" {
		return principal{}, false
	}
	t := a.tokens[found]
	return principal{name: t.name, roles: t.roles}, true
}

// errBadToken is a presented token that matches no configured one.
var errBadToken = errors.New("token not recognised")

// authenticate finds the principal of r: a bearer token in the
// Authorization header, else the signed session cookie, else anonymous
// when allowed on a loopback connection. ok is false when r has no
// usable credentials; err is errBadToken when it has wrong ones.
func (a *authenticator) authenticate(r *http.Request) (p principal, ok bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return principal{}, false, errBadToken
		}
		p, ok := a.match(strings.TrimSpace(secret))
		if !ok {
			return principal{}, false, errBadToken
		}
		return p, true, nil
	}
	if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
		if p, ok := a.session(c.Value, time.Now()); ok {
			return p, true, nil
		}
		// A stale or forged cookie (token since removed, session
		// expired) counts as no credentials, so the page asks to sign
		// in again.
	}
	if a.anonymous && loopbackConn(r) {
		return principal{name: "anonymous", roles: canSubmit | canRead}, true, nil
	}
	return principal{}, false, nil
}

// loopbackConn reports whether both ends of r's connection are loopback
// addresses.
func loopbackConn(r *http.Request) bool {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil || !loopbackAddr(local.String()) {
		return false
	}
	return loopbackAddr(r.RemoteAddr)
}

func loopbackAddr(hostport string) bool {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return false
	}
	return ap.Addr().Unmap().IsLoopback()
}

// loopbackListenAddr reports whether a listen address ("host:port") can
// only be reached from this machine.
func loopbackListenAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalFrom(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// needAPI wraps an API handler: 401 without credentials, 403 without
// one of the roles in want, 429 while the client address has failed too
// often (see limiter).
func (s *Server) needAPI(want roleSet, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer := r.Header.Get("Authorization") != ""
		if bearer {
			if wait, ok := s.limit.allow(r); !ok {
				tooMany(w, wait)
				return
			}
		}
		p, ok, err := s.auth.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="carta"`)
			msg := "a bearer token is required"
			if err != nil {
				msg = "the bearer token is not recognised"
				s.authFailed(r, "bearer token not recognised")
			}
			writeError(w, http.StatusUnauthorized, msg, nil)
			return
		}
		setLogPrincipal(r, p.name)
		if p.roles&want == 0 {
			writeError(w, http.StatusForbidden, fmt.Sprintf("token %q has role %s; this needs %s", p.name, p.roles, want.want()), nil)
			return
		}
		h(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// tooMany answers 429 with Retry-After.
func tooMany(w http.ResponseWriter, wait time.Duration) {
	secs := int(wait.Round(time.Second) / time.Second)
	w.Header().Set("Retry-After", fmt.Sprint(max(secs, 1)))
	writeError(w, http.StatusTooManyRequests, "too many failed sign-ins from this address; wait and try again", nil)
}

// authFailed counts a failed sign-in or bearer token against the
// client's address, logs it with the address and slows the answer.
func (s *Server) authFailed(r *http.Request, what string) {
	n, delay := s.limit.fail(r)
	s.log.Warn("authentication failed", "what", what, "client", clientAddr(r), "path", r.URL.Path, "recent_failures", n)
	sleep(r.Context(), delay)
}

// needPage wraps a page handler: without credentials the browser goes
// to the sign-in form; without the read role it gets a 403 page.
func (s *Server) needPage(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok, _ := s.auth.authenticate(r)
		if !ok {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		setLogPrincipal(r, p.name)
		if p.roles&canRead == 0 {
			s.renderLogin(w, r, http.StatusForbidden, "This token may submit jobs but not read letters. Sign in with a token that has the read role.")
			return
		}
		h(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// String names the role set of want in messages, e.g. "submit or read".
func (s roleSet) want() string {
	if s == canSubmit|canRead {
		return "submit or read"
	}
	return s.String()
}
