package codecs

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// TestPacketizer feeds the same PCM in chunks of various sizes and checks
// that the payloads equal those of encoding whole frames directly.
func TestPacketizer(t *testing.T) {
	for _, tc := range []struct {
		codec Codec
		ptime time.Duration
	}{
		{PCMU(), 10 * time.Millisecond}, {PCMA(), 30 * time.Millisecond}, {G722(), 20 * time.Millisecond},
		{G722(), 60 * time.Millisecond}, {L16(8000, 117), 40 * time.Millisecond},
		{Opus(), 20 * time.Millisecond}, {Opus(), 60 * time.Millisecond},
	} {
		p := Params{Ptime: tc.ptime, SampleRate: tc.codec.SampleRate()}
		if tc.codec.Name() == "opus" {
			p.SampleRate = 16000
		}
		x := sigTone(p.SampleRate, p.SampleRate, 700, 9000) // 1 s
		ref, _ := sigNew(t, tc.codec, p)
		want := sigEncodeAll(t, ref, x)
		for _, chunk := range []int{1, 7, 80, 160, 320, 1000, len(x)} {
			enc, _ := sigNew(t, tc.codec, p)
			pk := NewPacketizer(enc)
			var got [][]byte
			emit := func(b []byte) error {
				got = append(got, append([]byte(nil), b...))
				return nil
			}
			for i := 0; i < len(x); i += chunk {
				if err := pk.Write(x[i:min(i+chunk, len(x))], emit); err != nil {
					t.Fatal(err)
				}
			}
			if pk.Buffered() != len(x)%enc.FrameSamples() {
				t.Errorf("%s %v chunk %d: Buffered %d", tc.codec.Name(), tc.ptime, chunk, pk.Buffered())
			}
			if len(got) != len(want) {
				t.Fatalf("%s %v chunk %d: %d payloads, want %d", tc.codec.Name(), tc.ptime, chunk, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("%s %v chunk %d: payload %d differs", tc.codec.Name(), tc.ptime, chunk, i)
				}
			}
		}
	}
}

func TestPacketizerErrors(t *testing.T) {
	enc, _ := sigNew(t, PCMU(), Params{})
	pk := NewPacketizer(enc)
	stop := errors.New("stop")
	calls := 0
	err := pk.Write(make([]int16, 500), func([]byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Write = %v after %d calls, want stop after 1", err, calls)
	}
	pk.Reset()
	if pk.Buffered() != 0 {
		t.Errorf("Buffered after Reset = %d", pk.Buffered())
	}
}
