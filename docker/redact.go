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
// strings. Only the password's place in the URL is replaced (between the
// ':' of the user information and its '@'), never other text that
// happens to equal it.
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
	if lo, hi, ok := passwordSpan(raw); ok {
		s = raw[:lo] + redactedPassword + raw[hi:]
	}
	return dsnPasswordRE.ReplaceAllString(s, "${1}"+redactedPassword)
}

var dsnPasswordRE = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// passwordSpan finds the password of a URL-like string without parsing
// it: the text between the first ':' of the user information and the last
// '@'. ok is false when there is none.
func passwordSpan(raw string) (lo, hi int, ok bool) {
	off := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		off = i + 3
	}
	rest := raw[off:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return 0, 0, false
	}
	colon := strings.Index(rest[:at], ":")
	if colon < 0 || colon+1 == at {
		return 0, 0, false
	}
	return off + colon + 1, off + at, true
}

// rawPassword returns the password passwordSpan finds, "" when none.
func rawPassword(raw string) string {
	lo, hi, ok := passwordSpan(raw)
	if !ok {
		return ""
	}
	return raw[lo:hi]
}

// textURLPasswordRE finds the password of every URL written in a text:
// scheme://user:PASSWORD@ within one run of non-blank characters.
var textURLPasswordRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)\S*@`)

// scrub replaces the password of every URL and of every password=...
// setting in s by "xxxxx". It works on the URLs' parts, never by searching
// s for a secret's text: a password that is also a word ("e", the
// database's name) leaves the rest of the message alone. Messages are
// kept free of bare secrets where they are made (URLs are printed with
// Server.Redacted or redactURL).
func scrub(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(strings.ToLower(s), "password") {
		return s
	}
	s = textURLPasswordRE.ReplaceAllString(s, "${1}"+redactedPassword+"@")
	return dsnPasswordRE.ReplaceAllString(s, "${1}"+redactedPassword)
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

// scrubError returns err with the passwords of the URLs in its message
// replaced (scrub), or err itself when its message holds none.
func scrubError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := scrub(msg)
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
