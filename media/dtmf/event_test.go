package dtmf

import (
	"bytes"
	"errors"
	"testing"
)

func TestEventRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		wire []byte
	}{
		{"digit 1 start", Event{Code: 1, Volume: 10}, []byte{0x01, 0x0a, 0x00, 0x00}},
		{"digit 1 update", Event{Code: 1, Volume: 10, Duration: 320}, []byte{0x01, 0x0a, 0x01, 0x40}},
		{"digit 1 end 2240", Event{Code: 1, End: true, Volume: 10, Duration: 2240}, []byte{0x01, 0x8a, 0x08, 0xc0}},
		{"star", Event{Code: 10, Volume: 7, Duration: 400}, []byte{0x0a, 0x07, 0x01, 0x90}},
		{"pound end", Event{Code: 11, End: true, Volume: 0, Duration: 800}, []byte{0x0b, 0x80, 0x03, 0x20}},
		{"D max volume", Event{Code: 15, Volume: 63, Duration: 1}, []byte{0x0f, 0x3f, 0x00, 0x01}},
		{"flash", Event{Code: 16, End: true, Volume: 10, Duration: 4000}, []byte{0x10, 0x8a, 0x0f, 0xa0}},
		{"max duration", Event{Code: 5, Volume: 10, Duration: 0xFFFF}, []byte{0x05, 0x0a, 0xff, 0xff}},
		{"non-DTMF code", Event{Code: 255, End: true, Volume: 63, Duration: 0xFFFF}, []byte{0xff, 0xbf, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, 6)
			n, err := tt.ev.Marshal(buf)
			if err != nil || n != PayloadSize {
				t.Fatalf("Marshal = %d, %v", n, err)
			}
			if !bytes.Equal(buf[:n], tt.wire) {
				t.Fatalf("Marshal wrote % x, want % x", buf[:n], tt.wire)
			}
			var got Event
			if err := got.Unmarshal(tt.wire); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if got != tt.ev {
				t.Fatalf("Unmarshal = %+v, want %+v", got, tt.ev)
			}
		})
	}
}

func TestEventUnmarshalIgnoresReservedBitAndTrailer(t *testing.T) {
	var ev Event
	if err := ev.Unmarshal([]byte{0x03, 0xca, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef}); err != nil {
		t.Fatal(err)
	}
	want := Event{Code: 3, End: true, Volume: 10, Duration: 256}
	if ev != want {
		t.Fatalf("got %+v, want %+v", ev, want)
	}
}

func TestEventErrors(t *testing.T) {
	for n := range PayloadSize {
		var ev Event
		if err := ev.Unmarshal(make([]byte, n)); !errors.Is(err, ErrShortPayload) {
			t.Errorf("Unmarshal(%d bytes) = %v, want ErrShortPayload", n, err)
		}
		if _, err := (Event{}).Marshal(make([]byte, n)); !errors.Is(err, ErrShortPayload) {
			t.Errorf("Marshal into %d bytes = %v, want ErrShortPayload", n, err)
		}
	}
	if _, err := (Event{Volume: 64}).Marshal(make([]byte, 4)); !errors.Is(err, ErrVolume) {
		t.Errorf("Marshal volume 64 = %v, want ErrVolume", err)
	}
}

func TestEventKey(t *testing.T) {
	if k, ok := (Event{Code: 11}).Key(); !ok || k != '#' {
		t.Errorf("Key of code 11 = %q, %v", k, ok)
	}
	if _, ok := (Event{Code: 32}).Key(); ok {
		t.Errorf("Key of code 32 ok")
	}
}

func FuzzEventUnmarshal(f *testing.F) {
	f.Add([]byte{0x01, 0x0a, 0x00, 0x00})
	f.Add([]byte{0x01, 0x8a, 0x08, 0xc0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x00})
	f.Add([]byte{0x10})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		err := ev.Unmarshal(b)
		if len(b) < PayloadSize {
			if !errors.Is(err, ErrShortPayload) {
				t.Fatalf("short input %x: err %v", b, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Unmarshal(%x): %v", b, err)
		}
		var out [PayloadSize]byte
		if _, err := ev.Marshal(out[:]); err != nil {
			t.Fatalf("Marshal(%+v): %v", ev, err)
		}
		// Everything but the reserved bit survives the round trip.
		want := [PayloadSize]byte{b[0], b[1] &^ 0x40, b[2], b[3]}
		if out != want {
			t.Fatalf("round trip of %x gave %x", b[:PayloadSize], out)
		}
	})
}
