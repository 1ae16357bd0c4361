package codecs

import (
	"errors"
	"testing"
	"time"
)

func TestRegistryLookup(t *testing.T) {
	r := NewRegistry()
	for _, tc := range []struct {
		name            string
		clock, channels int
		want            string // Name of the codec found, "" for none
		wantPT          uint8
	}{
		{"PCMU", 8000, 1, "PCMU", 0},
		{"pcmu", 8000, 0, "PCMU", 0}, // case-insensitive; no channel count means 1
		{"PCMA", 8000, 1, "PCMA", 8},
		{"G722", 8000, 1, "G722", 9},
		{"g722", 16000, 1, "", 0}, // G.722's rtpmap clock is 8000
		{"opus", 48000, 2, "opus", 111},
		{"OPUS", 48000, 2, "opus", 111},
		{"opus", 48000, 1, "", 0}, // RFC 7587 7: always /2
		{"opus", 16000, 2, "", 0},
		{"L16", 44100, 1, "L16", 11},
		{"L16", 16000, 1, "L16", 118},
		{"L16", 44100, 2, "", 0},
		{"G729", 8000, 1, "", 0},
	} {
		c, ok := r.Lookup(tc.name, tc.clock, tc.channels)
		if tc.want == "" {
			if ok {
				t.Errorf("Lookup(%s/%d/%d) = %s, want none", tc.name, tc.clock, tc.channels, c.Name())
			}
			continue
		}
		if !ok || c.Name() != tc.want || c.PayloadType() != tc.wantPT || c.ClockRate() != tc.clock {
			t.Errorf("Lookup(%s/%d/%d) = %v, %v; want %s PT %d", tc.name, tc.clock, tc.channels, c, ok, tc.want, tc.wantPT)
		}
	}
}

func TestRegistryByPayloadType(t *testing.T) {
	r := NewRegistry()
	for pt, want := range map[uint8]string{0: "PCMU", 8: "PCMA", 9: "G722", 11: "L16", 111: "opus"} {
		if c, ok := r.ByPayloadType(pt); !ok || c.Name() != want {
			t.Errorf("ByPayloadType(%d) = %v, %v; want %s", pt, c, ok, want)
		}
	}
	if c, ok := r.ByPayloadType(18); ok {
		t.Errorf("ByPayloadType(18) = %s, want none", c.Name())
	}
}

// fakeCodec is a Codec for registry tests.
type fakeCodec struct {
	name  string
	clock int
	pt    uint8
}

func (f fakeCodec) Name() string                       { return f.name }
func (f fakeCodec) PayloadType() uint8                 { return f.pt }
func (f fakeCodec) ClockRate() int                     { return f.clock }
func (f fakeCodec) SampleRate() int                    { return f.clock }
func (f fakeCodec) Channels() int                      { return 1 }
func (f fakeCodec) FrameDuration() time.Duration       { return 20 * time.Millisecond }
func (f fakeCodec) NewEncoder(Params) (Encoder, error) { return nil, errors.ErrUnsupported }
func (f fakeCodec) NewDecoder(Params) (Decoder, error) { return nil, errors.ErrUnsupported }

func TestRegistryExtra(t *testing.T) {
	cn := fakeCodec{"CN", 8000, 13}
	pcmu := fakeCodec{"pcmu", 8000, 0}
	extra := []Codec{cn, pcmu}
	r := NewRegistry(extra...)
	if extra[0] != cn || extra[1] != pcmu {
		t.Error("NewRegistry modified its argument")
	}
	var names []string
	for _, c := range r.Codecs() {
		names = append(names, c.Name())
	}
	want := []string{"opus", "G722", "pcmu", "PCMA", "L16", "L16", "L16", "L16", "CN"}
	if len(names) != len(want) {
		t.Fatalf("Codecs = %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("Codecs = %v, want %v", names, want)
		}
	}
	if c, _ := r.Lookup("PCMU", 8000, 1); c != Codec(pcmu) {
		t.Errorf("PCMU not replaced by the extra codec: %v", c)
	}
	if c, _ := r.ByPayloadType(13); c != Codec(cn) {
		t.Errorf("ByPayloadType(13) = %v", c)
	}
	r.Codecs()[0] = cn
	if c := r.Codecs()[0]; c.Name() != "opus" {
		t.Error("Codecs returned the registry's own slice")
	}
}

// TestCodecDefaults checks each built-in codec's encoder and decoder
// against the codec's description and the ptime table.
func TestCodecDefaults(t *testing.T) {
	for _, c := range NewRegistry().Codecs() {
		for _, ptime := range Ptimes() {
			enc, err := c.NewEncoder(Params{Ptime: ptime})
			if c.Name() == "opus" && ptime == 30*time.Millisecond {
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("opus ptime 30: err %v, want ErrUnsupported", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s/%d ptime %v: %v", c.Name(), c.ClockRate(), ptime, err)
			}
			if enc.SampleRate() != c.SampleRate() || enc.FrameSamples() != FrameSamples(c.SampleRate(), ptime) {
				t.Errorf("%s/%d ptime %v: rate %d frame %d", c.Name(), c.ClockRate(), ptime, enc.SampleRate(), enc.FrameSamples())
			}
		}
		dec, err := c.NewDecoder(Params{})
		if err != nil || dec.SampleRate() != c.SampleRate() {
			t.Errorf("%s/%d: decoder %v, %v", c.Name(), c.ClockRate(), dec, err)
		}
		if _, err := c.NewEncoder(Params{Ptime: 25 * time.Millisecond}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s ptime 25ms: err %v, want ErrUnsupported", c.Name(), err)
		}
		if _, err := c.NewDecoder(Params{SampleRate: 11025}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s rate 11025: err %v, want ErrUnsupported", c.Name(), err)
		}
	}
	if FrameSamples(8000, 20*time.Millisecond) != 160 || FrameSamples(48000, 60*time.Millisecond) != 2880 {
		t.Error("FrameSamples")
	}
	for _, rate := range []int{8000, 16000, 48000} {
		if _, err := Opus().NewEncoder(Params{SampleRate: rate}); err != nil {
			t.Errorf("opus at %d: %v", rate, err)
		}
	}
}
