package guard

import (
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Event names written in the event= field of a security line.
const (
	EventAuthFailure = "auth_failure"
	EventUnknownUser = "unknown_user"
	EventBlocked     = "blocked"
	EventBan         = "ban"
	EventUnban       = "unban"
	EventRateLimit   = "rate_limit"
	EventScanner     = "scanner"
	EventCallLimit   = "call_limit"
	EventDestination = "destination"
)

// Events writes security lines, one Write per line, safe for concurrent use.
type Events struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
	buf []byte
}

// NewEvents returns an Events writing to w with the clock now (nil: time.Now).
func NewEvents(w io.Writer, now func() time.Time) *Events {
	if now == nil {
		now = time.Now
	}
	return &Events{w: w, now: now}
}

// Log writes one line: timestamp (UTC, RFC 3339 with milliseconds), the
// fixed words "switchboard security", event=NAME, src=ADDR and then kv as
// key=value pairs (values escaped: no spaces, quotes or control bytes).
func (e *Events) Log(event string, src netip.Addr, kv ...string) {
	if e == nil || e.w == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.now().UTC().AppendFormat(e.buf[:0], "2006-01-02T15:04:05.000Z")
	b = append(b, " switchboard security event="...)
	b = append(b, event...)
	b = append(b, " src="...)
	if src.IsValid() {
		b = src.Unmap().AppendTo(b)
	} else {
		b = append(b, '-')
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, ' ')
		b = append(b, kv[i]...)
		b = append(b, '=')
		b = appendValue(b, kv[i+1])
	}
	b = append(b, '\n')
	e.buf = b
	_, _ = e.w.Write(b)
}

// appendValue appends s with bytes outside printable ASCII, space, '%',
// '"' and '=' written as %XX, so a value cannot forge another field or line.
func appendValue(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	const hexd = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`%"=\`, c) >= 0 {
			b = append(b, '%', hexd[c>>4], hexd[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}
