package test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/srtp/v3"
)

// TestSRTPRekeyOnReinvite: a caller whose media this test sends itself
// (SRTP, AES_CM_128_HMAC_SHA1_80, sequence numbers wrapping after a
// second) calls a plain trunk through Switchboard, then re-INVITEs with a
// new key and goes on sending with it, its rollover counter carried on
// (RFC 3711 §3.3.1). The trunk side receives the caller's payloads in
// plain RTP before and after the re-key: Switchboard installed the new
// key, carried the rollover counter of the stream across it, and took the
// old key's packets until the caller switched (none lost meanwhile).
func TestSRTPRekeyOnReinvite(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	sipBase, peerBase := 15000+10*instance(), 15000+10*instance()
	sb := trunkSetup(t, sipBase, SBOptions{})
	capt := mediaCapture(t, sb)
	calleeRTP, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: peerBase})
	if err != nil {
		t.Fatal(err)
	}
	defer calleeRTP.Close()
	callerRTP, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3), Port: peerBase + 1})
	if err != nil {
		t.Fatal(err)
	}
	defer callerRTP.Close()

	newKey := func() []byte { k := make([]byte, 30); _, _ = rand.Read(k); return k }
	k1, k2 := newKey(), newKey()
	media := func(ip string, port int, extra string) string {
		return "v=0\no=peer 1 [cseq] IN IP4 " + ip + "\ns=-\nc=IN IP4 " + ip + "\nt=0 0\nm=audio " + strconv.Itoa(port) + " " +
			extra + "a=rtpmap:0 PCMU/8000\na=sendrecv\n"
	}
	callerSDP := func(k []byte) string {
		return media("127.0.0.3", peerBase+1, "RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+base64.StdEncoding.EncodeToString(k)+"\n")
	}
	calleeSDP := media("127.0.0.2", peerBase, "RTP/AVP 0\n")
	uas := writeScenario(t, "uas-rekey", `<recv request="INVITE"/>`, replyWith("200", "OK", true, calleeSDP), `<recv request="ACK"/>`,
		`<recv request="INVITE"/>`, replyWith("200", "OK", false, calleeSDP), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-rekey", uacInviteWith(callerSDP(k1)), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="3000"/>`, uacInDialog("INVITE", "3", "", callerSDP(k2)), `<recv response="100" optional="true"/>`,
		`<recv response="200"/>`, uacAck("3"), `<pause milliseconds="3000"/>`, uacInDialog("BYE", "4", "", ""), `<recv response="200"/>`)
	startSipp(t, dir, "-sf", uas, "-i", "127.0.0.2", "-p", strconv.Itoa(sipBase), "-mi", "127.0.0.2", "-mp", strconv.Itoa(sipBase+2), "-m", "1")
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", sipBase))
	done := make(chan Sipp, 1)
	go func() {
		done <- runSipp(t, dir, 60*time.Second, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(sipBase+4),
			"-mi", "127.0.0.3", "-mp", strconv.Itoa(sipBase+6), "-s", "95551234", "-key", "user", "1000",
			"-au", "1000", "-ap", sb.Users["1000"], "-m", "1", "-timeout", "50s", "-timeout_error")
	}()

	// Switchboard's 200 to the caller's INVITE (CSeq cseq): its RTP port.
	answer := func(cseq string) (int, bool) {
		for _, f := range readPcapUDP(t, capt.path) {
			if f.src.Port() == uint16(sb.SIPPort) && f.dst.Port() == uint16(sipBase+4) &&
				strings.HasPrefix(f.payload, "SIP/2.0 200") && strings.Contains(f.payload, "CSeq: "+cseq+" INVITE") {
				if m := mAudioRe.FindStringSubmatch(f.payload); m != nil {
					p, _ := strconv.Atoi(m[1])
					return p, true
				}
			}
		}
		return 0, false
	}
	var sbPort int
	waitFor(t, 15*time.Second, "Switchboard's answer to the caller", func() bool { p, ok := answer("2"); sbPort = p; return ok })

	// The trunk side: the counters of the payloads that arrive in plain.
	var mu sync.Mutex
	got := map[uint16]bool{}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := calleeRTP.Read(buf)
			if err != nil {
				return
			}
			if n == 12+160 && buf[0] == 0x80 && buf[12+2] == 0xd5 {
				mu.Lock()
				got[binary.BigEndian.Uint16(buf[12:])] = true
				mu.Unlock()
			}
		}
	}()

	ctx, err := srtp.CreateContext(k1[:16], k1[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	const ssrc = 0x5eed
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sbPort}
	seq := uint16(65536 - 50) // wraps after a second, before the re-key
	var counter, rekeyedAt uint16
	var sipp Sipp
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
send:
	for {
		select {
		case sipp = <-done:
			break send
		case <-ticker.C:
		}
		if rekeyedAt == 0 && counter%10 == 0 {
			if _, ok := answer("3"); ok {
				// New key, same stream: the packet index goes on (RFC 4568 §6.4).
				roc, _ := ctx.ROC(ssrc)
				if ctx, err = srtp.CreateContext(k2[:16], k2[16:], srtp.ProtectionProfileAes128CmHmacSha1_80); err != nil {
					t.Fatal(err)
				}
				ctx.SetROC(ssrc, roc)
				rekeyedAt = counter
			}
		}
		pkt := make([]byte, 12+160)
		pkt[0] = 0x80
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(counter)*160)
		binary.BigEndian.PutUint32(pkt[8:], ssrc)
		binary.BigEndian.PutUint16(pkt[12:], counter)
		for i := 14; i < len(pkt); i++ {
			pkt[i] = 0xd5
		}
		enc, err := ctx.EncryptRTP(nil, pkt, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = callerRTP.WriteToUDP(enc, dst)
		seq++
		counter++
	}
	if sipp.Stats.Successful != 1 || sipp.Err != nil {
		t.Fatalf("caller sipp: %v\n%s", sipp.Err, tail(sipp.Out, 2500))
	}
	if rekeyedAt < 60 {
		t.Fatalf("re-keyed after %d packets: the sequence number had not wrapped", rekeyedAt)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	before, after := 0, 0
	for c := range got {
		if c < rekeyedAt {
			before++
		} else {
			after++
		}
	}
	mu.Unlock()
	t.Logf("sent %d packets, re-keyed at %d; the trunk got %d before and %d after", counter, rekeyedAt, before, after)
	if before < int(rekeyedAt)*9/10 || after < int(counter-rekeyedAt)*9/10 || after < 50 {
		t.Fatalf("the trunk got %d of %d packets before the re-key and %d of %d after", before, rekeyedAt, after, counter-rekeyedAt)
	}
	recs := sb.WaitCDRs(1, 10*time.Second)
	if len(recs) != 1 || recs[0].SRTPA != "AES_CM_128_HMAC_SHA1_80" || recs[0].SRTPB != "none" {
		t.Fatalf("CDRs %+v", recs)
	}
}
