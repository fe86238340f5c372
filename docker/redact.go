package docker

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// redactedPassword replaces passwords, as in net/url's URL.Redacted.
const redactedPassword = "xxxxx"

// redactURL returns raw with any password replaced by "xxxxx". It also
// handles strings that do not parse as URLs, and key=value connection
// strings.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
		return raw
	}
	s := raw
	if pw := rawPassword(raw); pw != "" {
		s = strings.ReplaceAll(s, pw, redactedPassword)
	}
	return dsnPasswordRE.ReplaceAllString(s, "${1}"+redactedPassword)
}

var dsnPasswordRE = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// rawPassword extracts the password of a URL-like string without parsing
// it: the text between the first ':' of the user information and the last
// '@'. It returns "" when there is none.
func rawPassword(raw string) string {
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	userinfo := rest[:at]
	colon := strings.Index(userinfo, ":")
	if colon < 0 {
		return ""
	}
	return userinfo[colon+1:]
}

// secretsOf returns the passwords in the given URLs, in every spelling that
// could end up in a message: as written and percent-decoded.
func secretsOf(urls ...string) []string {
	var out []string
	add := func(s string) {
		if s == "" || s == redactedPassword {
			return
		}
		for _, have := range out {
			if have == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, raw := range urls {
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok {
				add(pw)
				add(url.QueryEscape(pw))
				add(url.PathEscape(pw))
			}
		}
		pw := rawPassword(raw)
		add(pw)
		if dec, err := url.PathUnescape(pw); err == nil {
			add(dec)
		}
		for _, m := range dsnPasswordRE.FindAllStringSubmatch(raw, -1) {
			add(strings.Trim(m[2], "'"))
		}
	}
	// Longest first, so that a password containing another is replaced
	// whole.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// scrub replaces every secret in s by "xxxxx".
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, redactedPassword)
	}
	return s
}

// redactedError is an error whose message had its secrets replaced. It
// deliberately does not unwrap to the original error, whose message still
// holds them; errors.Is still sees through it (for context.Canceled and the
// like).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

// Is reports whether the original error matches target.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// scrubError returns err with every secret replaced in its message, or err
// itself when its message holds none.
func scrubError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := scrub(msg, secrets)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// joinErrors is errors.Join on one line: messages are separated by "; "
// and line breaks inside them (pgconn puts one per address tried) become
// "; " too, so that a setting error stays one clear line.
func joinErrors(errs ...error) error {
	var kept []error
	for _, err := range errs {
		if err != nil {
			kept = append(kept, err)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return &joinedError{errs: kept}
}

type joinedError struct{ errs []error }

func (e *joinedError) Error() string {
	parts := make([]string, len(e.errs))
	for i, err := range e.errs {
		parts[i] = oneLine(err.Error())
	}
	return strings.Join(parts, "; ")
}

func (e *joinedError) Unwrap() []error { return e.errs }

// oneLine replaces line breaks and the indentation after them by "; ".
func oneLine(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, strings.TrimSuffix(l, ":"))
		}
	}
	return strings.Join(out, "; ")
}
