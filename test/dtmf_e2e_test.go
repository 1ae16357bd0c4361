package test

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// sdpCodecs is an SDP body offering or answering the given m-line
// payload types with their rtpmap lines.
func sdpCodecs(pts, rtpmaps string) string { return sdpAt("[media_port]", pts, rtpmaps) }

// sinkSDP is sdpCodecs for a callee whose media goes to the test's
// rtpSink (sipp's -key rxport).
func sinkSDP(pts, rtpmaps string) string { return sdpAt("[rxport]", pts, rtpmaps) }

// sdpAt is an SDP body with its audio m-line on port.
func sdpAt(port, pts, rtpmaps string) string {
	return `v=0
o=user1 53655765 [cseq] IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio ` + port + ` RTP/AVP ` + pts + `
` + rtpmaps + `a=sendrecv
`
}

// TestDTMFRFC4733ToInfo: the caller signals a digit with RFC 4733 events
// (sip-tester's dtmf_2833_1.pcap: key 1, 2240 units = 280 ms at 8000 Hz);
// the callee negotiated no telephone-event, so Switchboard sends it a SIP
// INFO (application/dtmf-relay) with Signal=1 and Duration=280, and the
// CDR records the digit.
func TestDTMFRFC4733ToInfo(t *testing.T) {
	uas := writeScenario(t, "uas-dtmf-info", `<recv request="INVITE"/>`,
		replyWith("200", "OK", true, sdpCodecs("0", "a=rtpmap:0 PCMU/8000\n")),
		`<recv request="ACK"/>`,
		`<recv request="INFO"><action>
<ereg regexp="application/dtmf-relay" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct"/>
<ereg regexp="Signal=1[^0-9]" search_in="body" check_it="true" assign_to="sig"/>
<ereg regexp="Duration=280[^0-9]" search_in="body" check_it="true" assign_to="dur"/>
</action></recv>`,
		replyNoTag("200", "OK", false, ""),
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("ct", "sig", "dur"))
	uac := writeScenario(t, "uac-dtmf-4733", uacInviteWith(sdpCodecs("0 101", "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n")),
		`<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
		`<pause milliseconds="300"/>`,
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_1.pcap"/></action></nop>`,
		`<pause milliseconds="1500"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	if len(c.Digits) != 1 || c.Digits[0].Key != "1" || c.Digits[0].DurationMs != 280 || c.Digits[0].Via != "rfc4733" || c.Digits[0].Leg != "a" {
		t.Errorf("CDR digits %+v, want one key 1 of 280 ms from leg a by rfc4733", c.Digits)
	}
}

// TestDTMFRelayedInCDR: both legs negotiated PCMU and telephone-event,
// so the call is relayed; the caller's RFC 4733 digit (sip-tester's
// dtmf_2833_1.pcap: key 1, 280 ms) reaches the callee as it was sent, and
// the CDR still records it, read on the relay's way.
func TestDTMFRelayedInCDR(t *testing.T) {
	t.Parallel()
	sink := newRTPSink(t)
	calleeSDP := sinkSDP("0 101", "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\n")
	uas := writeScenario(t, "uas-dtmf-relay", `<recv request="INVITE"/>`, replyWith("200", "OK", true, calleeSDP), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-dtmf-relay", uacInviteWith(sdpCodecs("0 101", "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n")),
		`<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
		`<pause milliseconds="300"/>`,
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_1.pcap"/></action></nop>`,
		`<pause milliseconds="1500"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	c := runCallCase(t, SBOptions{}, uas, uac, "-key", "rxport", strconv.Itoa(sink.Port))
	expectCDR(t, c, 200, "answered", "caller")
	if c.Transcoded {
		t.Errorf("CDR says transcoded: want the relay")
	}
	var ends int
	for _, p := range sink.Drain(time.Second) {
		if p.pt == 101 && len(p.payload) >= 4 && p.payload[1]&0x80 != 0 {
			if p.payload[0] != 1 || binary.BigEndian.Uint16(p.payload[2:]) != 2240 {
				t.Errorf("relayed end event code %d duration %d, want key 1, 2240", p.payload[0], binary.BigEndian.Uint16(p.payload[2:]))
			}
			ends++
		}
	}
	if ends == 0 {
		t.Error("the callee got no end event of the relayed digit")
	}
	if len(c.Digits) != 1 || c.Digits[0].Key != "1" || c.Digits[0].DurationMs != 280 || c.Digits[0].Via != "rfc4733" || c.Digits[0].Leg != "a" {
		t.Errorf("CDR digits %+v, want one key 1 of 280 ms from leg a by rfc4733", c.Digits)
	}
}

// TestDTMFInfoToRFC4733: the caller (no telephone-event) signals key 5
// for 400 ms by SIP INFO while it sends audio; the callee negotiated
// telephone-event, so Switchboard answers the INFO itself and sends the
// callee RFC 4733 events for key 5 whose final duration is 400 ms
// (3200 units at 8000 Hz), ending with the E bit.
func TestDTMFInfoToRFC4733(t *testing.T) {
	sink := newRTPSink(t)
	calleeSDP := sinkSDP("8 101", "a=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\n")
	uas := writeScenario(t, "uas-dtmf-4733", `<recv request="INVITE"/>`, replyWith("200", "OK", true, calleeSDP), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-dtmf-info", uacInviteWith(sdpCodecs("8", "a=rtpmap:8 PCMA/8000\n")),
		`<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<pause milliseconds="1000"/>`,
		uacInDialog("INFO", "3", "Content-Type: application/dtmf-relay\n", "Signal=5\r\nDuration=400\r\n"),
		`<recv response="200"/>`,
		`<pause milliseconds="1500"/>`, uacInDialog("BYE", "4", "", ""), `<recv response="200"/>`)
	c := runCallCase(t, SBOptions{}, uas, uac, "-key", "rxport", strconv.Itoa(sink.Port))
	expectCDR(t, c, 200, "answered", "caller")
	type event struct {
		code     byte
		end      bool
		duration uint16
	}
	var got []event
	for _, p := range sink.Drain(time.Second) {
		if p.pt == 101 && len(p.payload) >= 4 {
			got = append(got, event{code: p.payload[0], end: p.payload[1]&0x80 != 0, duration: binary.BigEndian.Uint16(p.payload[2:])})
		}
	}
	var final *event
	for i := range got {
		if got[i].code != 5 {
			t.Fatalf("event code %d, want 5: %+v", got[i].code, got)
		}
		if got[i].end {
			final = &got[i]
		}
	}
	if final == nil || final.duration != 3200 {
		t.Fatalf("callee got %d RFC 4733 packets %+v; want key 5 ending with duration 3200", len(got), got)
	}
	if len(c.Digits) != 1 || c.Digits[0].Key != "5" || c.Digits[0].DurationMs != 400 || c.Digits[0].Via != "info" {
		t.Errorf("CDR digits %+v, want one key 5 of 400 ms by info", c.Digits)
	}
}

// TestDTMFInbandToRFC4733: the caller (no telephone-event) plays key 7 as
// tones (852 + 1209 Hz, 300 ms, in PCMU between stretches of silence);
// the callee negotiated telephone-event, so Switchboard detects the digit
// in the audio and sends the callee RFC 4733 events for key 7 with about
// the tone's duration, and records it.
func TestDTMFInbandToRFC4733(t *testing.T) {
	var pkts []rtp.Packet
	seq, ts := uint16(3000), uint32(16000)
	n := 0
	add := func(frames int, tone bool) {
		for range frames {
			pl := make([]byte, 160)
			for k := range pl {
				v := 0.0
				if tone {
					x := float64(n*160+k) / 8000
					v = 0.2 * 32767 * (math.Sin(2*math.Pi*852*x) + math.Sin(2*math.Pi*1209*x))
				}
				pl[k] = g711.EncodeUlawFrame(int16(v))
			}
			pkts = append(pkts, rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, Marker: n == 0,
				SequenceNumber: seq, Timestamp: ts, SSRC: 0x7777}, Payload: pl})
			seq++
			ts += 160
			n++
		}
	}
	add(50, false)
	add(15, true) // 300 ms
	add(50, false)
	pcap := filepath.Join(t.TempDir(), "inband7.pcap")
	if err := writeRTPPcap(pcap, pkts, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sink := newRTPSink(t)
	calleeSDP := sinkSDP("0 101", "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\n")
	uas := writeScenario(t, "uas-inband", `<recv request="INVITE"/>`, replyWith("200", "OK", true, calleeSDP), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-inband", uacInviteWith(sdpCodecs("0", "a=rtpmap:0 PCMU/8000\n")),
		`<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
		`<nop><action><exec play_pcap_audio="`+pcap+`"/></action></nop>`,
		`<pause milliseconds="3000"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	c := runCallCase(t, SBOptions{}, uas, uac, "-key", "rxport", strconv.Itoa(sink.Port))
	expectCDR(t, c, 200, "answered", "caller")
	var final uint16
	for _, p := range sink.Drain(time.Second) {
		if p.pt != 101 || len(p.payload) < 4 {
			continue
		}
		if p.payload[0] != 7 {
			t.Fatalf("event code %d, want 7", p.payload[0])
		}
		if p.payload[1]&0x80 != 0 {
			final = binary.BigEndian.Uint16(p.payload[2:])
		}
	}
	if final < 2000 || final > 2800 { // 250-350 ms at 8000 Hz
		t.Fatalf("final event duration %d units, want about 2400 (300 ms)", final)
	}
	if len(c.Digits) != 1 || c.Digits[0].Key != "7" || c.Digits[0].Via != "inband" {
		t.Errorf("CDR digits %+v, want one key 7 found in-band", c.Digits)
	}
}
