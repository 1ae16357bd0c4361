package codecs

import (
	"reflect"
	"testing"
	"time"
)

func TestParseFmtp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Params
		fmtp string // want Fmtp() of the result
	}{
		{"", Params{}, ""},
		{"minptime=10;useinbandfec=1", Params{UseInbandFEC: true, Other: map[string]string{"minptime": "10"}},
			"useinbandfec=1; minptime=10"},
		{" maxplaybackrate=16000 ; sprop-maxcapturerate=16000; maxaveragebitrate=20000; usedtx=1; stereo=0; sprop-stereo=1; ptime=40",
			Params{MaxPlaybackRate: 16000, SpropMaxCaptureRate: 16000, MaxAverageBitrate: 20000, UseDTX: true,
				SpropStereo: true, Ptime: 40 * time.Millisecond},
			"maxplaybackrate=16000; sprop-maxcapturerate=16000; maxaveragebitrate=20000; ptime=40; sprop-stereo=1; usedtx=1"},
		{"UseInbandFEC=1;USEDTX=0", Params{UseInbandFEC: true}, "useinbandfec=1"},
		{"0-16", Params{Other: map[string]string{"": "0-16"}}, "0-16"},
		{"useinbandfec=yes;maxaveragebitrate=-5;ptime=;;", Params{Other: map[string]string{
			"useinbandfec": "yes", "maxaveragebitrate": "-5", "ptime": ""}},
			"maxaveragebitrate=-5; ptime=; useinbandfec=yes"},
		{"mode=20;annexb=no", Params{Other: map[string]string{"mode": "20", "annexb": "no"}}, "annexb=no; mode=20"},
	} {
		got := ParseFmtp(tc.in)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFmtp(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if f := got.Fmtp(); f != tc.fmtp {
			t.Errorf("ParseFmtp(%q).Fmtp() = %q, want %q", tc.in, f, tc.fmtp)
		}
		if again := ParseFmtp(got.Fmtp()); !reflect.DeepEqual(again, got) {
			t.Errorf("ParseFmtp(%q) does not survive Fmtp: %+v", tc.in, again)
		}
	}
}

// FuzzParseFmtp feeds arbitrary fmtp lines (untrusted SDP) to ParseFmtp and
// checks that Fmtp output parses back to the same Fmtp output.
func FuzzParseFmtp(f *testing.F) {
	for _, s := range []string{"", "minptime=10;useinbandfec=1", "0-15", "a=b=c; ;=;",
		"maxplaybackrate=99999999999999999999", "ptime=20;ptime=30", "x", "0000;=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := ParseFmtp(s)
		out := p.Fmtp()
		if again := ParseFmtp(out).Fmtp(); again != out {
			t.Errorf("Fmtp not stable: %q -> %q -> %q", s, out, again)
		}
	})
}
