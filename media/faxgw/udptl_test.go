package faxgw

import (
	"bytes"
	"fmt"
	"testing"
)

// TestUDPTLRedundancy: datagrams framed with redundancy 2, every third
// lost, decode back to every IFP packet in order; with redundancy 0 the
// lost ones stay lost and nothing is delivered twice.
func TestUDPTLRedundancy(t *testing.T) {
	for _, red := range []int{0, 2} {
		e := NewEncoder(red)
		var d Decoder
		var got []string
		for i := range 30 {
			pkt := bytes.Clone(e.Encode([]byte(fmt.Sprintf("ifp-%02d", i))))
			if uint16(pkt[0])<<8|uint16(pkt[1]) != uint16(i) {
				t.Fatalf("datagram %d has sequence %d", i, pkt[1])
			}
			if i%3 == 1 {
				continue
			}
			for range 2 { // a duplicate too
				if err := d.Decode(pkt, func(seq uint16, ifp []byte) { got = append(got, fmt.Sprintf("%d:%s", seq, ifp)) }); err != nil {
					t.Fatal(err)
				}
			}
		}
		want := 0
		for i, g := range got {
			if red == 0 && i > 0 && g == got[i-1] {
				t.Fatalf("redundancy %d: %s delivered twice", red, g)
			}
		}
		if red == 2 {
			want = 30
		} else {
			want = 20
		}
		if len(got) != want {
			t.Fatalf("redundancy %d: %d packets decoded, want %d: %v", red, len(got), want, got)
		}
		if red == 2 {
			for i, g := range got {
				if g != fmt.Sprintf("%d:ifp-%02d", i, i) {
					t.Fatalf("packet %d is %s", i, g)
				}
			}
		}
	}
}

// TestUDPTLLongLength: an IFP packet of 200 octets takes a two-octet
// length determinant and comes back whole.
func TestUDPTLLongLength(t *testing.T) {
	ifp := bytes.Repeat([]byte{0xA5}, 200)
	pkt := NewEncoder(1).Encode(ifp)
	var d Decoder
	n := 0
	if err := d.Decode(pkt, func(_ uint16, p []byte) {
		n++
		if !bytes.Equal(p, ifp) {
			t.Fatal("IFP changed")
		}
	}); err != nil || n != 1 {
		t.Fatalf("decoded %d, %v", n, err)
	}
}

// FuzzUDPTLDecode: no datagram makes the decoder panic or hand out a
// packet outside the datagram.
func FuzzUDPTLDecode(f *testing.F) {
	f.Add(NewEncoder(3).Encode([]byte{0, 1, 2}))
	f.Add([]byte{0, 1, 0x80, 0x05, 1, 2, 3, 4, 5, 0x80, 1, 3, 0})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var d Decoder
		_ = d.Decode(pkt, func(uint16, []byte) {})
	})
}
