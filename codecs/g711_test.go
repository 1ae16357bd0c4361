package codecs

import (
	"testing"
)

// TestG711ITUVectors checks PCMU and PCMA bit-exactly against the ITU-T
// G.191 STL sweep: encoding every int16 gives the reference codes (one per
// 16-bit word, A-law already carrying the 0x55 even-bit inversion, as on the
// wire), and decoding those codes gives the reference linear samples.
func TestG711ITUVectors(t *testing.T) {
	src := sigReadLE(t, sigCorpus(t, "vectors/g711-itu-stl/sweep.src"))
	for _, tc := range []struct {
		codec      Codec
		codes, lin string
	}{
		{PCMA(), "sweep-r.a", "sweep-r.rea"},
		{PCMU(), "sweep-r.u", "sweep-r.reu"},
	} {
		t.Run(tc.codec.Name(), func(t *testing.T) {
			codes := sigReadLE(t, sigCorpus(t, "vectors/g711-itu-stl/"+tc.codes))
			lin := sigReadLE(t, sigCorpus(t, "vectors/g711-itu-stl/"+tc.lin))
			if len(src) != 65536 || len(codes) != len(src) || len(lin) != len(src) {
				t.Fatalf("vector sizes %d/%d/%d, want 65536", len(src), len(codes), len(lin))
			}
			enc, err := tc.codec.NewEncoder(Params{})
			if err != nil {
				t.Fatal(err)
			}
			dec, err := tc.codec.NewDecoder(Params{})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(src))
			if n, err := enc.Encode(src, got); err != nil || n != len(src) {
				t.Fatalf("Encode = %d, %v", n, err)
			}
			want := make([]byte, len(codes))
			bad := 0
			for i, c := range codes {
				if uint16(c) > 0xff {
					t.Fatalf("code word %d = %#x has a high byte", i, uint16(c))
				}
				want[i] = byte(c)
				if got[i] != want[i] {
					if bad < 5 {
						t.Errorf("encode %d: got %#02x, want %#02x", src[i], got[i], want[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d codes differ", bad, len(src))
			}
			pcm := make([]int16, len(want))
			if n, err := dec.Decode(want, pcm); err != nil || n != len(want) {
				t.Fatalf("Decode = %d, %v", n, err)
			}
			for i := range pcm {
				if pcm[i] != lin[i] {
					if bad < 5 {
						t.Errorf("decode %#02x: got %d, want %d", want[i], pcm[i], lin[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d samples differ", bad, len(pcm))
			}
		})
	}
}
