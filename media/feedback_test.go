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
