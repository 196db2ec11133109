package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envName is the environment variable of a flag: CARTA_ and the flag
// name in upper snake case (-nats-url → CARTA_NATS_URL).
func envName(flagName string) string {
	return "CARTA_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets each flag of fs that has its CARTA_ variable in the
// environment (looked up with lookup, os.LookupEnv in production) and
// adds the variable's name to the flag's usage. Call it after defining
// the flags and before fs.Parse, so the command line wins. A bad value
// is reported naming both the flag and the variable, e.g.
//
//	invalid value "x" for -concurrency (CARTA_CONCURRENCY): must be a positive integer
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		f.Usage += " (env " + env + ")"
		val, ok := lookup(env)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, val); err != nil {
			errs = append(errs, fmt.Errorf("invalid value %q for -%s (%s): %w", val, f.Name, env, unwrapFlagErr(err)))
		}
	})
	return errors.Join(errs...)
}

// unwrapFlagErr drops the strconv prefixes of the flag package's errors.
func unwrapFlagErr(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// positiveInt is an int flag that must be at least 1.
type positiveInt int

func (p *positiveInt) String() string { return strconv.Itoa(int(*p)) }

func (p *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return errors.New("must be a positive integer")
	}
	*p = positiveInt(n)
	return nil
}

// positiveDuration is a duration flag that must be above zero.
type positiveDuration time.Duration

func (d *positiveDuration) String() string { return time.Duration(*d).String() }

func (d *positiveDuration) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v <= 0 {
		return errors.New("must be a positive duration such as 30s or 2m")
	}
	*d = positiveDuration(v)
	return nil
}

// byteSize is a size flag in bytes, with an optional KiB, MiB or GiB
// suffix.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 1 {
		return errors.New("must be a positive number of bytes, optionally with KiB, MiB or GiB")
	}
	*b = byteSize(n * mult)
	return nil
}
