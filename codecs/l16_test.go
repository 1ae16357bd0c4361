package codecs

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestL16(t *testing.T) {
	for _, rate := range []int{8000, 16000, 44100, 48000} {
		c, ok := NewRegistry().Lookup("L16", rate, 1)
		if !ok {
			t.Fatalf("L16/%d not registered", rate)
		}
		enc, dec := sigNew(t, c, Params{})
		if enc.FrameSamples() != rate/50 || enc.SampleRate() != rate || dec.SampleRate() != rate {
			t.Errorf("L16/%d: frame %d, rates %d/%d", rate, enc.FrameSamples(), enc.SampleRate(), dec.SampleRate())
		}
		x := sigTone(rate/5, rate, 1000, 30000)
		y := sigRoundTrip(t, enc, dec, x)
		if len(y) != len(x) {
			t.Fatalf("L16/%d: %d samples back, want %d", rate, len(y), len(x))
		}
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("L16/%d: sample %d = %d, want %d", rate, i, y[i], x[i])
			}
		}
	}
}

// TestL16ByteOrder checks network byte order (RFC 3551 4.5.11).
func TestL16ByteOrder(t *testing.T) {
	enc, dec := sigNew(t, L16(16000, 118), Params{})
	pcm := []int16{0x0102, -2, -32768, 32767}
	wire := []byte{0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x7f, 0xff}
	dst := make([]byte, 8)
	if n, err := enc.Encode(pcm, dst); err != nil || !bytes.Equal(dst[:n], wire) {
		t.Errorf("Encode = % x, %v; want % x", dst[:n], err, wire)
	}
	out := make([]int16, 4)
	if n, err := dec.Decode(wire, out); err != nil || n != 4 || out[0] != pcm[0] || out[1] != pcm[1] || out[2] != pcm[2] || out[3] != pcm[3] {
		t.Errorf("Decode = %v (%d, %v), want %v", out, n, err, pcm)
	}
	if _, err := dec.Decode(wire[:3], out); err == nil {
		t.Error("odd-length payload decoded without error")
	}
	if _, err := dec.Decode(wire, out[:3]); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("short pcm: err %v, want io.ErrShortBuffer", err)
	}
	if _, err := enc.Encode(pcm, dst[:7]); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("short dst: err %v, want io.ErrShortBuffer", err)
	}
}
