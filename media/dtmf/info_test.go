package dtmf

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseInfo(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		ct, body string
		key      byte
		dur      time.Duration
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * ms},
		{"application/dtmf-relay", "Signal=5\nDuration=160\n", '5', 160 * ms},           // LF
		{"application/dtmf-relay", "Signal=5\r\nDuration=160", '5', 160 * ms},           // no final CRLF
		{"Application/DTMF-Relay", "signal = 9 \r\n duration= 100 \r\n", '9', 100 * ms}, // case, spaces
		{"application/dtmf-relay; charset=utf-8", "SIGNAL=0\r\n", '0', DefaultInfoDuration},
		{"application/dtmf-relay", "Duration=300\r\nSignal=#\r\n", '#', 300 * ms}, // any order
		{"application/dtmf-relay", "Signal=*\r\nDuration=250\r\n", '*', 250 * ms},
		{"application/dtmf-relay", "Signal=a\r\n", 'A', DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=B\r\n", 'B', DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=c\r\n", 'C', DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=D\r\n", 'D', DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=10\r\n", '*', DefaultInfoDuration}, // RFC 4733 codes
		{"application/dtmf-relay", "Signal=11\r\n", '#', DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=12\r\n", 'A', DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=15\r\n", 'D', DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=16\r\n", Flash, DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=07\r\n", '7', DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=flash\r\nDuration=500\r\n", Flash, 500 * ms},
		{"application/dtmf-relay", "Signal=HookFlash\r\n", Flash, DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=!\r\n", Flash, DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=1\r\nDuration=0\r\n", '1', DefaultInfoDuration}, // 0: unknown
		{"application/dtmf-relay", "Signal=1\r\nDuration=\r\n", '1', DefaultInfoDuration},
		{"application/dtmf-relay", "Signal=1\r\nDuration=10\r\n", '1', MinInfoDuration},    // raised
		{"application/dtmf-relay", "Signal=1\r\nDuration=40\r\n", '1', MinInfoDuration},    //
		{"application/dtmf-relay", "Signal=1\r\nDuration=10000\r\n", '1', MaxInfoDuration}, //
		{"application/dtmf-relay", "Signal=1\r\nDuration=10001\r\n", '1', MaxInfoDuration}, // lowered
		{"application/dtmf-relay", "Signal=1\r\nDuration=99999999999999999999999\r\n", '1', MaxInfoDuration},
		{"application/dtmf-relay", "\r\nSignal=3\r\n\r\nVolume=10\r\nX: y=z\r\n", '3', DefaultInfoDuration}, // blank and unknown lines
		{"application/dtmf", "5", '5', DefaultInfoDuration},
		{"application/dtmf", " 5\r\n", '5', DefaultInfoDuration},
		{"APPLICATION/DTMF", "#", '#', DefaultInfoDuration},
		{"application/dtmf", "d", 'D', DefaultInfoDuration},
		{"application/dtmf", "16", Flash, DefaultInfoDuration},
		{"application/dtmf", "flash", Flash, DefaultInfoDuration},
		{"application/dtmf", "Signal=8\r\nDuration=120\r\n", '8', 120 * ms}, // relay body, mislabelled
	}
	for _, tt := range tests {
		key, dur, err := ParseInfo(tt.ct, []byte(tt.body))
		if err != nil {
			t.Errorf("ParseInfo(%q, %q): %v", tt.ct, tt.body, err)
			continue
		}
		if key != tt.key || dur != tt.dur {
			t.Errorf("ParseInfo(%q, %q) = %q, %v; want %q, %v", tt.ct, tt.body, key, dur, tt.key, tt.dur)
		}
		if _, ok := KeyToCode(key); !ok {
			t.Errorf("ParseInfo(%q, %q) = %q, not a key", tt.ct, tt.body, key)
		}
	}
}

func TestParseInfoErrors(t *testing.T) {
	tests := []struct {
		ct, body string
		is       error
		want     string
	}{
		{"text/plain", "Signal=5", ErrInfoType, `"text/plain"`},
		{"", "5", ErrInfoType, `""`},
		{"application/dtmf-relayx", "Signal=5", ErrInfoType, "dtmf-relayx"},
		{"application/dtmf-relay", "", ErrInfoBody, "no Signal line"},
		{"application/dtmf-relay", "Duration=100\r\n", ErrInfoBody, "no Signal line"},
		{"application/dtmf-relay", "Signal=\r\n", ErrInfoBody, `Signal "" is not a DTMF signal`},
		{"application/dtmf-relay", "Signal=E\r\n", ErrInfoBody, `Signal "E"`},
		{"application/dtmf-relay", "Signal=17\r\n", ErrInfoBody, `Signal "17"`},
		{"application/dtmf-relay", "Signal=55\r\n", ErrInfoBody, `Signal "55"`},
		{"application/dtmf-relay", "Signal=123\r\n", ErrInfoBody, `Signal "123"`},
		{"application/dtmf-relay", "Signal=5 6\r\n", ErrInfoBody, `Signal "5 6"`},
		{"application/dtmf-relay", "Signal=5\r\nSignal=6\r\n", ErrInfoBody, "line 2: Signal repeated"},
		{"application/dtmf-relay", "Signal=5\r\nDuration=1\r\nDuration=2\r\n", ErrInfoBody, "line 3: Duration repeated"},
		{"application/dtmf-relay", "Signal=5\r\nDuration=-160\r\n", ErrInfoBody, `Duration "-160"`},
		{"application/dtmf-relay", "Signal=5\r\nDuration=160ms\r\n", ErrInfoBody, `Duration "160ms"`},
		{"application/dtmf-relay", "Signal=5\r\nDuration=1.5\r\n", ErrInfoBody, `Duration "1.5"`},
		{"application/dtmf-relay", "Signal 5\r\n", ErrInfoBody, `line 1 "Signal 5": no '='`},
		{"application/dtmf-relay", "Signal=5\r\n" + strings.Repeat("x=y\r\n", 300), ErrInfoBody, "more than 1024"},
		{"application/dtmf", "", ErrInfoBody, "empty body"},
		{"application/dtmf", " \r\n", ErrInfoBody, "empty body"},
		{"application/dtmf", "55", ErrInfoBody, `"55" is not a DTMF signal`},
		{"application/dtmf", "x", ErrInfoBody, `"x"`},
	}
	for _, tt := range tests {
		key, dur, err := ParseInfo(tt.ct, []byte(tt.body))
		if err == nil {
			t.Errorf("ParseInfo(%q, %q) = %q, %v; want an error", tt.ct, tt.body, key, dur)
			continue
		}
		if !errors.Is(err, tt.is) {
			t.Errorf("ParseInfo(%q, %q): %v, want it to wrap %v", tt.ct, tt.body, err, tt.is)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseInfo(%q, %q): %q, want it to mention %q", tt.ct, tt.body, err, tt.want)
		}
	}
}

func TestFormatInfo(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		ct   string
		key  byte
		dur  time.Duration
		want string
	}{
		{ContentTypeDTMFRelay, '5', 160 * ms, "Signal=5\r\nDuration=160\r\n"},
		{ContentTypeDTMFRelay, '*', 250 * ms, "Signal=*\r\nDuration=250\r\n"},
		{ContentTypeDTMFRelay, '#', 0, "Signal=#\r\nDuration=250\r\n"}, // default
		{ContentTypeDTMFRelay, 'b', -ms, "Signal=B\r\nDuration=250\r\n"},
		{ContentTypeDTMFRelay, Flash, 500 * ms, "Signal=16\r\nDuration=500\r\n"},
		{ContentTypeDTMFRelay, '0', 1500 * time.Microsecond, "Signal=0\r\nDuration=40\r\n"}, // raised
		{ContentTypeDTMFRelay, '0', time.Hour, "Signal=0\r\nDuration=10000\r\n"},            // lowered
		{ContentTypeDTMFRelay, '0', 120*ms + 600*time.Microsecond, "Signal=0\r\nDuration=121\r\n"},
		{"Application/DTMF-Relay; x=y", '9', 100 * ms, "Signal=9\r\nDuration=100\r\n"},
		{ContentTypeDTMF, '5', 160 * ms, "5"},
		{ContentTypeDTMF, 'd', 0, "D"},
		{ContentTypeDTMF, Flash, 0, "16"},
	}
	for _, tt := range tests {
		got, err := FormatInfo(tt.ct, tt.key, tt.dur)
		if err != nil {
			t.Errorf("FormatInfo(%q, %q, %v): %v", tt.ct, tt.key, tt.dur, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("FormatInfo(%q, %q, %v) = %q, want %q", tt.ct, tt.key, tt.dur, got, tt.want)
		}
	}
	if _, err := FormatInfo("text/plain", '5', 0); !errors.Is(err, ErrInfoType) {
		t.Errorf("FormatInfo(text/plain): %v, want ErrInfoType", err)
	}
	for _, k := range []byte{'E', 'x', 0, ' ', '\n'} {
		if _, err := FormatInfo(ContentTypeDTMFRelay, k, 0); !errors.Is(err, ErrInfoKey) {
			t.Errorf("FormatInfo(%q): %v, want ErrInfoKey", k, err)
		}
	}
}

// TestInfoEveryKey formats and parses every key of RFC 4733 §3.2 in both
// bodies and checks its event code survives.
func TestInfoEveryKey(t *testing.T) {
	for code := uint8(0); code <= FlashCode; code++ {
		key, _ := CodeToKey(code)
		for _, ct := range []string{ContentTypeDTMFRelay, ContentTypeDTMF} {
			body, err := FormatInfo(ct, key, 200*time.Millisecond)
			if err != nil {
				t.Fatalf("FormatInfo(%s, %q): %v", ct, key, err)
			}
			got, dur, err := ParseInfo(ct, body)
			if err != nil {
				t.Fatalf("ParseInfo(%s, %q): %v", ct, body, err)
			}
			if c, _ := KeyToCode(got); c != code {
				t.Errorf("%s: code %d → %q → code %d", ct, code, body, c)
			}
			want := 200 * time.Millisecond
			if ct == ContentTypeDTMF {
				want = DefaultInfoDuration
			}
			if dur != want {
				t.Errorf("%s %q: duration %v, want %v", ct, body, dur, want)
			}
		}
	}
}

func TestIsInfoType(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/dtmf-relay": true, " Application/DTMF ; q=1": true,
		"application/sdp": false, "": false, "application/dtmf-relay2": false,
	} {
		if got := IsInfoType(ct); got != want {
			t.Errorf("IsInfoType(%q) = %v, want %v", ct, got, want)
		}
	}
}

// FuzzParseInfo checks that ParseInfo never panics, returns only keys and
// bounded durations, and that what it accepts survives FormatInfo and a
// second parse.
func FuzzParseInfo(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{ContentTypeDTMFRelay, "Signal=5\r\nDuration=160\r\n"},
		{ContentTypeDTMFRelay, "signal = flash\nduration=99999999999999999999\n"},
		{ContentTypeDTMFRelay, "Signal=16\r\nX=y\r\n\r\n"},
		{ContentTypeDTMF, "#"},
		{ContentTypeDTMF, "Signal=a"},
		{"text/plain", "5"},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		key, dur, err := ParseInfo(ct, body)
		if err != nil {
			if !errors.Is(err, ErrInfoType) && !errors.Is(err, ErrInfoBody) {
				t.Fatalf("ParseInfo(%q, %q): %v wraps neither error", ct, body, err)
			}
			return
		}
		if _, ok := KeyToCode(key); !ok || (key >= 'a' && key <= 'd') {
			t.Fatalf("ParseInfo(%q, %q) = key %q", ct, body, key)
		}
		if dur < MinInfoDuration || dur > MaxInfoDuration || dur%time.Millisecond != 0 {
			t.Fatalf("ParseInfo(%q, %q) = duration %v", ct, body, dur)
		}
		out, err := FormatInfo(ct, key, dur)
		if err != nil {
			t.Fatalf("FormatInfo(%q, %q, %v): %v", ct, key, dur, err)
		}
		key2, dur2, err := ParseInfo(ct, out)
		if mt, _ := infoType(ct); mt == ContentTypeDTMF {
			dur = DefaultInfoDuration
		}
		if err != nil || key2 != key || dur2 != dur {
			t.Fatalf("round trip of %q %q: %q %v → %q → %q %v %v", ct, body, key, dur, out, key2, dur2, err)
		}
	})
}
