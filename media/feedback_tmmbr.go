package media

import (
	"encoding/binary"
	"errors"
)

// TMMBR and TMMBN (RFC 5104 §3.5.4, §4.2): a receiver asks the sender of a
// stream to keep its bit rate under a bound (TMMBR) and the sender answers
// with the bounding set it now honours (TMMBN). pion/rtcp does not model
// them (they arrive as rtcp.RawPacket), so they are read and written here:
// a few fixed-size fields.
//
// RTCP is terminated per leg, so Switchboard is the sender each receiver
// talks to: a TMMBR from the receiver on one leg is answered there with a
// TMMBN holding the receiver's own tuple, and re-issued out of the other
// leg toward the stream's source in that leg's terms (feedback.go); the
// source's TMMBN to that re-issued request ends here.

// Transport-layer feedback formats of TMMBR and TMMBN (RFC 5104 §4.2.1,
// §4.2.2), RTCP packet type RTPFB (205, RFC 4585 §6.1).
const (
	rtcpRTPFB = 205
	fmtTMMBR  = 3
	fmtTMMBN  = 4
)

// tmmbEntry is one FCI entry of a TMMBR or TMMBN (RFC 5104 §4.2.1.1): the
// SSRC it is about (TMMBR: the media sender; TMMBN: the tuple's owner),
// the bit rate bound as exponent and 17-bit mantissa (bit/s = mantissa ×
// 2^exp) and the per-packet overhead in octets (9 bits).
type tmmbEntry struct {
	ssrc     uint32
	exp      uint8
	mantissa uint32
	overhead uint16
}

// tmmb is a TMMBR (format 3) or TMMBN (format 4) packet.
type tmmb struct {
	format        uint8
	sender, media uint32 // packet sender SSRC; media source SSRC (0: unused, §4.2.1.2)
	entries       []tmmbEntry
}

var errTMMB = errors.New("media: malformed TMMBR/TMMBN")

// parseTMMB reads one RTCP packet (header included) as a TMMBR or TMMBN.
func parseTMMB(pkt []byte) (tmmb, error) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 || pkt[1] != rtcpRTPFB {
		return tmmb{}, errTMMB
	}
	f := pkt[0] & 0x1f
	n := (int(binary.BigEndian.Uint16(pkt[2:]))+1)*4 - 12
	if (f != fmtTMMBR && f != fmtTMMBN) || n < 0 || n%8 != 0 || 12+n > len(pkt) {
		return tmmb{}, errTMMB
	}
	t := tmmb{format: f, sender: binary.BigEndian.Uint32(pkt[4:]), media: binary.BigEndian.Uint32(pkt[8:])}
	for fci := pkt[12 : 12+n]; len(fci) >= 8; fci = fci[8:] {
		w := binary.BigEndian.Uint32(fci[4:])
		t.entries = append(t.entries, tmmbEntry{ssrc: binary.BigEndian.Uint32(fci), exp: uint8(w >> 26),
			mantissa: (w >> 9) & 0x1ffff, overhead: uint16(w & 0x1ff)})
	}
	return t, nil
}

// marshal writes the packet.
func (t tmmb) marshal() []byte {
	b := make([]byte, 12+8*len(t.entries))
	b[0] = 2<<6 | t.format
	b[1] = rtcpRTPFB
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)/4-1))
	binary.BigEndian.PutUint32(b[4:], t.sender)
	binary.BigEndian.PutUint32(b[8:], t.media)
	for i, e := range t.entries {
		o := b[12+8*i:]
		binary.BigEndian.PutUint32(o, e.ssrc)
		binary.BigEndian.PutUint32(o[4:], uint32(e.exp&0x3f)<<26|(e.mantissa&0x1ffff)<<9|uint32(e.overhead&0x1ff))
	}
	return b
}

// bitrate returns the entry's bound in bit/s.
func (e tmmbEntry) bitrate() uint64 { return uint64(e.mantissa) << e.exp }
