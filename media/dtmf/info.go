package dtmf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SIP INFO DTMF bodies. Besides RFC 4733 events in RTP, phones and trunks
// send digits as SIP INFO requests (RFC 6086 leaves their bodies to
// practice). Two bodies are common:
//
//	application/dtmf-relay          application/dtmf
//	Signal=5\r\n                    5
//	Duration=160\r\n
//
// application/dtmf-relay is the de-facto format of Cisco, Asterisk and
// FreeSWITCH (no RFC defines it): "key=value" lines, Duration in
// milliseconds. application/dtmf carries one key and no duration, as
// gateways did in the RFC 2976 era. ParseInfo reads both into a key of
// this package (KeyToCode gives its RFC 4733 event code) and a duration;
// FormatInfo writes them.

// The content types of SIP INFO DTMF bodies.
const (
	// ContentTypeDTMFRelay is the "Signal=…\r\nDuration=…\r\n" body.
	ContentTypeDTMFRelay = "application/dtmf-relay"
	// ContentTypeDTMF is the single-key body.
	ContentTypeDTMF = "application/dtmf"
)

// Bounds of an INFO digit's duration.
const (
	// DefaultInfoDuration is the duration of a digit whose body gives
	// none (application/dtmf always; dtmf-relay without Duration or with
	// Duration=0, which some senders write when they do not know it).
	// 250 ms is FreeSWITCH's default digit length: long enough that the
	// digit survives conversion to RFC 4733 (several 50 ms updates) or to
	// in-band tones (ITU-T Q.24 receivers need 40 ms) with margin, short
	// enough not to merge with the next digit of a fast sequence.
	DefaultInfoDuration = 250 * time.Millisecond
	// MinInfoDuration is the shortest duration ParseInfo returns and
	// FormatInfo writes; shorter ones are raised to it. A tone shorter
	// than 40 ms may be rejected by an ITU-T Q.24 receiver, so a digit
	// forwarded in-band could be lost.
	MinInfoDuration = 40 * time.Millisecond
	// MaxInfoDuration is the longest duration ParseInfo returns and
	// FormatInfo writes; longer ones are lowered to it. No person holds a
	// key for 10 s, so a larger value is a sender's unit error (RTP
	// timestamp units or microseconds for milliseconds) or an attack, and
	// honouring it would keep the other leg's event or tone running for
	// minutes.
	MaxInfoDuration = 10 * time.Second
	// MaxInfoBody is the largest body ParseInfo reads: a real one is
	// about 25 bytes.
	MaxInfoBody = 1024
)

// Errors of ParseInfo and FormatInfo; the errors returned wrap them.
var (
	// ErrInfoType is returned for a content type that is not a DTMF body.
	ErrInfoType = errors.New("dtmf: not a DTMF INFO content type")
	// ErrInfoBody is returned for a body that cannot be read.
	ErrInfoBody = errors.New("dtmf: malformed DTMF INFO body")
	// ErrInfoKey is returned by FormatInfo for a byte that is not a key.
	ErrInfoKey = errors.New("dtmf: not a DTMF key")
)

// IsInfoType reports whether contentType (a Content-Type header value,
// parameters allowed) is one of the DTMF INFO bodies.
func IsInfoType(contentType string) bool {
	_, ok := infoType(contentType)
	return ok
}

// infoType returns the media type of contentType, lower-cased, without
// parameters; ok says whether it is a DTMF body.
func infoType(contentType string) (string, bool) {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt, mt == ContentTypeDTMFRelay || mt == ContentTypeDTMF
}

// ParseInfo reads the DTMF digit of a SIP INFO body of contentType
// (application/dtmf-relay or application/dtmf, any case, parameters
// ignored). key is '0'-'9', '*', '#', 'A'-'D' or Flash; dur is the
// duration, DefaultInfoDuration when the body gives none, clamped to
// [MinInfoDuration, MaxInfoDuration].
//
// An application/dtmf-relay body is lines "name=value" ended by CRLF or LF;
// names are matched without case, spaces around names and values are
// ignored, lines of other names and blank lines are skipped. Signal is
// required: a key (letters in either case), an RFC 4733 event code 0-16
// ("10" is '*', "16" is flash) or "flash"/"hookflash". Duration, if
// present, is whole milliseconds. An application/dtmf body is one signal
// written the same way; one that holds "=" is read as dtmf-relay, as some
// senders label that body application/dtmf.
//
// Errors wrap ErrInfoType or ErrInfoBody and say what is wrong.
func ParseInfo(contentType string, body []byte) (key byte, dur time.Duration, err error) {
	mt, ok := infoType(contentType)
	if !ok {
		return 0, 0, fmt.Errorf("%w: %q", ErrInfoType, mt)
	}
	if len(body) > MaxInfoBody {
		return 0, 0, fmt.Errorf("%w: %d bytes, more than %d", ErrInfoBody, len(body), MaxInfoBody)
	}
	if mt == ContentTypeDTMF && !bytes.ContainsRune(body, '=') {
		s := strings.TrimSpace(string(body))
		if s == "" {
			return 0, 0, fmt.Errorf("%w: empty body", ErrInfoBody)
		}
		key, ok := parseSignal(s)
		if !ok {
			return 0, 0, fmt.Errorf("%w: %q is not a DTMF signal", ErrInfoBody, s)
		}
		return key, DefaultInfoDuration, nil
	}
	return parseRelay(body)
}

// parseRelay reads an application/dtmf-relay body.
func parseRelay(body []byte) (key byte, dur time.Duration, err error) {
	// field is a line's value and its line number (0: not seen).
	type field struct {
		value string
		line  int
	}
	var signal, duration field
	for n, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line) // also the CR of CRLF
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return 0, 0, fmt.Errorf("%w: line %d %q: no '='", ErrInfoBody, n+1, line)
		}
		name = strings.TrimSpace(name)
		var f *field
		switch {
		case strings.EqualFold(name, "Signal"):
			f = &signal
		case strings.EqualFold(name, "Duration"):
			f = &duration
		default:
			continue
		}
		if f.line != 0 {
			return 0, 0, fmt.Errorf("%w: line %d: %s repeated", ErrInfoBody, n+1, name)
		}
		*f = field{strings.TrimSpace(value), n + 1}
	}
	if signal.line == 0 {
		return 0, 0, fmt.Errorf("%w: no Signal line", ErrInfoBody)
	}
	key, ok := parseSignal(signal.value)
	if !ok {
		return 0, 0, fmt.Errorf("%w: line %d: Signal %q is not a DTMF signal", ErrInfoBody, signal.line, signal.value)
	}
	dur, ok = parseMillis(duration.value)
	if !ok {
		return 0, 0, fmt.Errorf("%w: line %d: Duration %q is not whole milliseconds", ErrInfoBody, duration.line, duration.value)
	}
	return key, dur, nil
}

// parseSignal reads a signal: a key, an RFC 4733 event code 0-16, or the
// name of a hook flash. Keys come back upper-case.
func parseSignal(s string) (key byte, ok bool) {
	if strings.EqualFold(s, "flash") || strings.EqualFold(s, "hookflash") {
		return Flash, true
	}
	if len(s) == 1 {
		code, ok := KeyToCode(s[0])
		if !ok {
			return 0, false
		}
		return CodeToKey(code)
	}
	if len(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' {
		return CodeToKey((s[0]-'0')*10 + s[1] - '0')
	}
	return 0, false
}

// parseMillis reads a Duration value: whole milliseconds, 0 or empty for
// the default, clamped to [MinInfoDuration, MaxInfoDuration].
func parseMillis(s string) (time.Duration, bool) {
	if s == "" {
		return DefaultInfoDuration, true
	}
	ms := int64(0)
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		if ms <= int64(MaxInfoDuration/time.Millisecond) {
			ms = ms*10 + int64(s[i]-'0')
		}
	}
	if ms == 0 {
		return DefaultInfoDuration, true
	}
	return clampInfo(time.Duration(ms) * time.Millisecond), true
}

// clampInfo bounds a duration to [MinInfoDuration, MaxInfoDuration].
func clampInfo(d time.Duration) time.Duration {
	return min(max(d, MinInfoDuration), MaxInfoDuration)
}

// FormatInfo writes the SIP INFO body of contentType for key (as
// KeyToCode accepts it: letters in either case, Flash) held for dur:
// "Signal=5\r\nDuration=160\r\n" for application/dtmf-relay, "5" for
// application/dtmf (which has no duration). A hook flash is written as
// its event code, "16", which receivers of both bodies understand more
// widely than a name. dur <= 0 means DefaultInfoDuration; others are
// clamped to [MinInfoDuration, MaxInfoDuration] and rounded to the
// millisecond. Errors wrap ErrInfoType or ErrInfoKey.
func FormatInfo(contentType string, key byte, dur time.Duration) ([]byte, error) {
	mt, ok := infoType(contentType)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrInfoType, mt)
	}
	code, ok := KeyToCode(key)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrInfoKey, key)
	}
	signal := strconv.Itoa(int(FlashCode))
	if code != FlashCode {
		k, _ := CodeToKey(code)
		signal = string(k)
	}
	if mt == ContentTypeDTMF {
		return []byte(signal), nil
	}
	if dur <= 0 {
		dur = DefaultInfoDuration
	}
	ms := (clampInfo(dur) + time.Millisecond/2) / time.Millisecond
	b := make([]byte, 0, 32)
	b = append(b, "Signal="...)
	b = append(b, signal...)
	b = append(b, "\r\nDuration="...)
	b = strconv.AppendInt(b, int64(ms), 10)
	b = append(b, "\r\n"...)
	return b, nil
}
