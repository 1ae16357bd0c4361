package media

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestRelayFeedback: phone B's PLI, FIR and NACK about the stream it
// receives (Switchboard's SSRC and sequence numbers) reach phone A, the
// source, in A's terms: our SSRC as sender, A's own SSRC as media SSRC,
// the NACKed sequence number taken back through the relay's offset.
func TestRelayFeedback(t *testing.T) {
	c := newRTCPCall(t, false)
	c.br.RelayFeedback()
	const ssrcA = 0x0a0a0a0a
	c.stream(t, ssrcA, 5, nil) // sequence numbers 1000..1004
	outSSRC := binary.BigEndian.Uint32(c.lastB[8:])
	outSeq := binary.BigEndian.Uint16(c.lastB[2:]) // A's 1004 as B saw it
	own := c.a.RTCPSession().SSRC()
	buf, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.PictureLossIndication{SenderSSRC: 77, MediaSSRC: outSSRC},
		&rtcp.FullIntraRequest{SenderSSRC: 77, MediaSSRC: outSSRC, FIR: []rtcp.FIREntry{{SSRC: outSSRC, SequenceNumber: 9}}},
		&rtcp.TransportLayerNack{SenderSSRC: 77, MediaSSRC: outSSRC, Nacks: []rtcp.NackPair{{PacketID: outSeq - 2}}},
		&rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: 77, Bitrate: 250000, SSRCs: []uint32{outSSRC}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.rb.send(netip.AddrPortFrom(c.b.Local().Addr(), c.b.Local().Port()+1), buf)
	var got []rtcp.Packet
	deadline := time.Now().Add(2 * time.Second)
	for len(got) < 4 && time.Now().Before(deadline) {
		pkt, ok := c.ra.recvWithin(200 * time.Millisecond)
		if !ok {
			continue
		}
		ps, err := rtcp.Unmarshal(pkt)
		if err != nil {
			continue
		}
		for _, p := range ps {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest, *rtcp.TransportLayerNack, *rtcp.ReceiverEstimatedMaximumBitrate:
				got = append(got, p) // reports (SR/RR) are the clock's, skipped
			}
		}
	}
	if len(got) != 4 {
		t.Fatalf("phone A got %d feedback messages, want 4: %v", len(got), got)
	}
	pli, ok1 := got[0].(*rtcp.PictureLossIndication)
	fir, ok2 := got[1].(*rtcp.FullIntraRequest)
	nack, ok3 := got[2].(*rtcp.TransportLayerNack)
	switch {
	case !ok1 || pli.SenderSSRC != own || pli.MediaSSRC != ssrcA:
		t.Errorf("PLI %+v, want sender %x media %x", got[0], own, ssrcA)
	case !ok2 || fir.SenderSSRC != own || len(fir.FIR) != 1 || fir.FIR[0].SSRC != ssrcA:
		t.Errorf("FIR %+v", got[1])
	case !ok3 || nack.MediaSSRC != ssrcA || len(nack.Nacks) != 1 || nack.Nacks[0].PacketID != 1002:
		t.Errorf("NACK %+v, want A's sequence number 1002", got[2])
	}
	if remb, ok := got[3].(*rtcp.ReceiverEstimatedMaximumBitrate); !ok || remb.SenderSSRC != own || remb.Bitrate != 250000 || len(remb.SSRCs) != 1 || remb.SSRCs[0] != ssrcA {
		t.Errorf("REMB %+v", got[3])
	}
	if toA, toB := c.br.FeedbackRelayed(); toA != 4 || toB != 0 {
		t.Errorf("FeedbackRelayed %d, %d; want 4, 0", toA, toB)
	}
}

// TestRelayTMMBR: phone B's TMMBR (RFC 5104 §4.2.1) about the stream it
// receives is answered to B with a TMMBN of B's own tuple, and reaches
// phone A, the source, re-issued with our SSRC as sender and A's SSRC in
// the entry, the bound (mantissa, exponent) and overhead kept; A's TMMBN
// to that request goes no further.
func TestRelayTMMBR(t *testing.T) {
	c := newRTCPCall(t, false)
	c.br.RelayFeedback()
	const ssrcA, ssrcB = 0x0a0a0a0a, 0x0b0b0b0b
	c.stream(t, ssrcA, 5, nil)
	outSSRC := binary.BigEndian.Uint32(c.lastB[8:])
	req := tmmb{format: fmtTMMBR, sender: ssrcB, entries: []tmmbEntry{{ssrc: outSSRC, exp: 4, mantissa: 31250, overhead: 40}}} // 500 kbit/s
	c.rb.send(netip.AddrPortFrom(c.b.Local().Addr(), c.b.Local().Port()+1), req.marshal())
	find := func(p *peer, format uint8) (tmmb, bool) {
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			pkt, ok := p.recvWithin(200 * time.Millisecond)
			if !ok {
				continue
			}
			ps, err := rtcp.Unmarshal(pkt)
			if err != nil {
				continue
			}
			for _, q := range ps {
				if raw, ok := q.(*rtcp.RawPacket); ok {
					if m, err := parseTMMB(*raw); err == nil && m.format == format {
						return m, true
					}
				}
			}
		}
		return tmmb{}, false
	}
	fwd, ok := find(c.ra, fmtTMMBR)
	own := c.a.RTCPSession().SSRC()
	if !ok || fwd.sender != own || len(fwd.entries) != 1 || fwd.entries[0] != (tmmbEntry{ssrc: ssrcA, exp: 4, mantissa: 31250, overhead: 40}) {
		t.Fatalf("phone A got TMMBR %+v (found %v), want sender %x and A's SSRC %x at 500 kbit/s, overhead 40", fwd, ok, own, ssrcA)
	}
	if b := fwd.entries[0].bitrate(); b != 500000 {
		t.Errorf("bound %d bit/s, want 500000", b)
	}
	set, ok := find(c.rb, fmtTMMBN)
	if !ok || set.sender != c.b.RTCPSession().SSRC() || len(set.entries) != 1 || set.entries[0] != (tmmbEntry{ssrc: ssrcB, exp: 4, mantissa: 31250, overhead: 40}) {
		t.Errorf("phone B got TMMBN %+v (found %v), want its own tuple from our SSRC", set, ok)
	}
	// A's answer to the re-issued request ends with us.
	ans := tmmb{format: fmtTMMBN, sender: ssrcA, entries: []tmmbEntry{{ssrc: own, exp: 4, mantissa: 31250, overhead: 40}}}
	c.ra.send(netip.AddrPortFrom(c.a.Local().Addr(), c.a.Local().Port()+1), ans.marshal())
	if m, ok := find(c.rb, fmtTMMBN); ok {
		t.Errorf("A's TMMBN crossed to B: %+v", m)
	}
	if toA, toB := c.br.FeedbackRelayed(); toA != 1 || toB != 0 {
		t.Errorf("FeedbackRelayed %d, %d; want 1, 0", toA, toB)
	}
}

// TestParseTMMB: what marshal writes parses back; truncated or foreign
// packets are refused.
func TestParseTMMB(t *testing.T) {
	in := tmmb{format: fmtTMMBN, sender: 1, media: 0, entries: []tmmbEntry{{ssrc: 2, exp: 63, mantissa: 0x1ffff, overhead: 511}, {ssrc: 3}}}
	b := in.marshal()
	out, err := parseTMMB(b)
	if err != nil || out.format != in.format || out.sender != 1 || len(out.entries) != 2 || out.entries[0] != in.entries[0] || out.entries[1] != in.entries[1] {
		t.Fatalf("round trip %+v, %v; want %+v", out, err, in)
	}
	for _, bad := range [][]byte{b[:11], b[:len(b)-4], append([]byte{0x81, 200}, b[2:]...), append([]byte{0x85}, b[1:]...)} {
		if _, err := parseTMMB(bad); err == nil {
			t.Errorf("parsed % x", bad)
		}
	}
}

// FuzzParseTMMB: any datagram parses or is refused without a panic, and
// what parses writes back to a packet that parses to the same.
func FuzzParseTMMB(f *testing.F) {
	f.Add(tmmb{format: fmtTMMBR, sender: 1, entries: []tmmbEntry{{ssrc: 2, exp: 4, mantissa: 31250, overhead: 40}}}.marshal())
	f.Add(tmmb{format: fmtTMMBN, sender: 1}.marshal())
	f.Add([]byte{0x83, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseTMMB(b)
		if err != nil {
			return
		}
		again, err := parseTMMB(m.marshal())
		if err != nil || again.format != m.format || again.sender != m.sender || again.media != m.media || len(again.entries) != len(m.entries) {
			t.Fatalf("%+v wrote back as %+v, %v", m, again, err)
		}
		for i := range m.entries {
			if again.entries[i] != m.entries[i] {
				t.Fatalf("entry %d: %+v became %+v", i, m.entries[i], again.entries[i])
			}
		}
	})
}
