package test

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Browser phone calls with media (issue 11): WebRTC legs (DTLS-SRTP, ICE,
// Opus) bridged by Switchboard; what each side hears is checked by its
// frequency.

// expectTone fails unless a page hears want Hz (within 3 %, the
// analyser's bin width at 48 kHz is under 6 Hz) at a real level.
func expectTone(t *testing.T, b *Browser, page string, want float64) Heard {
	t.Helper()
	var h Heard
	// The first half second may still be silence (jitter buffer, DTLS).
	for i := 0; i < 5; i++ {
		h = b.Measure(page, 1500)
		if math.Abs(h.Freq-want) <= want*0.03 && h.Level > -45 {
			return h
		}
	}
	t.Fatalf("%s heard %.0f Hz at %.1f dBFS, want %.0f Hz", page, h.Freq, h.Level, want)
	return h
}

// expectSilence fails unless a page hears (nearly) nothing.
func expectSilence(t *testing.T, b *Browser, page string) Heard {
	t.Helper()
	var h Heard
	for i := 0; i < 5; i++ {
		h = b.Measure(page, 1000)
		if h.Level < -60 {
			return h
		}
	}
	t.Fatalf("%s still hears %.0f Hz at %.1f dBFS, want silence", page, h.Freq, h.Level)
	return h
}

// TestPhoneEchoService (issue 11, test b): the browser calls the echo
// service and hears its own tone back through DTLS-SRTP.
func TestPhoneEchoService(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000"}, WS: true, Routes: `  - {match: '^600$', to: echo}`})
	b := startBrowser(t, 440)
	b.Open("a", phoneURL(sb, true))
	login(b, sb, "a", "1000")
	b.Eval("a", "sbPhone.call('600')")
	h := expectTone(t, b, "a", 440)
	t.Logf("the browser hears its echo: %.0f Hz at %.1f dBFS", h.Freq, h.Level)
	// Muted, nothing comes back; unmuted, the tone does.
	b.Eval("a", "sbPhone.mute(true)")
	expectSilence(t, b, "a")
	b.Eval("a", "sbPhone.mute(false)")
	expectTone(t, b, "a", 440)
	b.Eval("a", "sbPhone.hangup()")
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].HangupSide != "caller" || recs[0].TransportA != "WSS" {
		t.Fatalf("CDRs %+v", recs)
	}
}

// checkLiveQuality reads the page's live quality (/phone/quality by the
// call's SIP Call-ID): MOS, loss and jitter of both legs from the media
// engine.
func checkLiveQuality(t *testing.T, b *Browser, page string) {
	t.Helper()
	var q struct {
		State   string
		Quality struct {
			Legs []struct {
				Leg      string
				Codec    string
				Received struct {
					Packets  uint64  `json:"packets"`
					MOS      float64 `json:"mos"`
					LossRate float64 `json:"loss_rate"`
					Jitter   float64 `json:"jitter_mean_ms"`
				}
			}
		}
	}
	raw := b.Eval(page, "fetch('quality?call_id=' + encodeURIComponent(sbPhone.info().callID)).then(r => r.json())")
	if err := json.Unmarshal(raw, &q); err != nil || len(q.Quality.Legs) != 2 {
		t.Fatalf("live quality %s: %v", raw, err)
	}
	for _, l := range q.Quality.Legs {
		if r := l.Received; r.Packets == 0 || r.MOS < 3.5 || r.LossRate > 0.05 {
			t.Errorf("live quality of leg %s: %+v (%s)", l.Leg, r, raw)
		}
		t.Logf("live quality, leg %s: %s, MOS %.2f, loss %.3f, jitter %.1f ms", l.Leg, l.Codec, l.Received.MOS, l.Received.LossRate, l.Received.Jitter)
	}
	if code := b.Eval(page, "fetch('quality?call_id=nope').then(r => r.status)"); string(code) != "404" {
		t.Errorf("quality of an unknown Call-ID: %s, want 404", code)
	}
}

// TestPhoneBaresip (issue 11, test c): browser ↔ baresip (PCMU, plain
// RTP) both ways; each hears the other's tone.
func TestPhoneBaresip(t *testing.T) {
	for _, dir := range []string{"browser-calls", "baresip-calls"} {
		t.Run(dir, func(t *testing.T) {
			sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, WS: true})
			bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true})
			b := startBrowser(t, 440)
			b.Open("a", phoneURL(sb, false))
			login(b, sb, "a", "1000")
			if dir == "browser-calls" {
				b.Eval("a", "sbPhone.call('1001')")
			} else {
				bob.Command(fmt.Sprintf("dial sip:1000@127.0.0.1:%d;transport=udp", sb.SIPPort))
				b.Eval("a", "sbPhone.answer(10000)")
			}
			if !bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second) {
				t.Fatalf("baresip's call not established\n%s", tail(sb.Output(), 3000))
			}
			expectTone(t, b, "a", 1000)
			checkLiveQuality(t, b, "a")
			time.Sleep(time.Second)
			b.Eval("a", "sbPhone.hangup()")
			if !bob.WaitEvent("CALL_CLOSED", 5*time.Second) {
				t.Fatal("baresip did not see the hangup")
			}
			checkHeard(t, "baresip", bob, 440, 1000)
			recs := sb.WaitCDRs(1, 5*time.Second)
			if len(recs) != 1 || recs[0].Disposition != "answered" {
				t.Fatalf("CDRs %+v", recs)
			}
		})
	}
}

// TestPhoneBrowserToBrowser (issue 11, test d): two browsers (each its own
// Chromium with its own tone) call each other through Switchboard.
func TestPhoneBrowserToBrowser(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, WS: true})
	alice := startBrowser(t, 440)
	bob := startBrowser(t, 1000)
	alice.Open("a", phoneURL(sb, false))
	bob.Open("b", phoneURL(sb, true))
	login(alice, sb, "a", "1000")
	login(bob, sb, "b", "1001")
	answered := make(chan error, 1)
	go func() { _, err := bob.TryEval("b", "sbPhone.answer(15000)"); answered <- err }()
	alice.Eval("a", "sbPhone.call('1001')")
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	expectTone(t, alice, "a", 1000)
	expectTone(t, bob, "b", 440)
	alice.Eval("a", "sbPhone.hangup()")
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].TransportA != "WS" || recs[0].TransportB != "WSS" {
		t.Fatalf("CDRs %+v", recs)
	}
}

// TestPhoneDTMF (issue 11, test e): digits from the browser's keypad
// (RFC 4733 events in its media) reach a SIP trunk as RFC 4733
// telephone-events with the right digits, and the CDR lists them.
func TestPhoneDTMF(t *testing.T) {
	t.Run("pcmu", func(t *testing.T) { phoneDTMF(t, "") })
	// Opus in the browser: its telephone-events at 48 kHz become 8 kHz ones.
	t.Run("opus", func(t *testing.T) { phoneDTMF(t, "opus") })
}

func phoneDTMF(t *testing.T, codec string) {
	sink := newRTPSink(t)
	uas := writeScenario(t, "uas-phone-dtmf", `<recv request="INVITE"/>`,
		replyWith("200", "OK", true, sinkSDP("0 101", "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n")),
		`<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{WS: true})
	uasDone := sigSippUAS(t, dir, uas, "127.0.0.2", uasPort, uasPort+2, "-key", "rxport", strconv.Itoa(sink.Port))
	b := startBrowser(t, 440)
	b.Open("a", phoneURL(sb, false))
	login(b, sb, "a", "1000")
	callTrunkNumber(b, codec)
	time.Sleep(1500 * time.Millisecond)
	const digits = "159#"
	b.Eval("a", fmt.Sprintf("sbPhone.dtmf(%q)", digits))
	time.Sleep(3 * time.Second)
	b.Eval("a", "sbPhone.hangup()")
	if r := <-uasDone; r.Err != nil {
		t.Fatalf("trunk sipp: %v\n%s", r.Err, tail(r.Out, 2500))
	}
	// RFC 4733 §2.3: one event per digit, its end packets marked E.
	var got strings.Builder
	last := -1
	for _, p := range sink.Drain(500 * time.Millisecond) {
		if p.pt != 101 || len(p.payload) < 4 {
			continue
		}
		ev := int(p.payload[0])
		if p.payload[1]&0x80 != 0 && ev != last { // end of an event
			got.WriteByte("0123456789*#"[ev])
			last = ev
		} else if p.payload[1]&0x80 == 0 {
			last = -1
		}
	}
	if got.String() != digits {
		t.Errorf("the trunk got telephone-events %q, want %q", got.String(), digits)
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 {
		t.Fatalf("CDRs %+v", recs)
	}
	if codec != "" && !strings.EqualFold(recs[0].CodecA, codec) {
		t.Errorf("the browser's leg is in %s, want %s", recs[0].CodecA, codec)
	}
	// The keypad sends 160 ms tones (sbPhone.dtmf): at 48 kHz in the
	// browser's Opus session or 8 kHz in PCMU, the duration is kept.
	var keys strings.Builder
	for _, d := range recs[0].Digits {
		if d.Leg == "a" && d.Via == "rfc4733" {
			keys.WriteString(d.Key)
		}
		if d.DurationMs < 120 || d.DurationMs > 250 {
			t.Errorf("digit %s lasted %d ms, want about 160", d.Key, d.DurationMs)
		}
	}
	if keys.String() != digits {
		t.Errorf("CDR digits %+v, want %q from leg a by rfc4733", recs[0].Digits, digits)
	}
}

// TestPhoneHoldAndTabClose (issue 11, test f): the browser holds (it hears
// nothing) and resumes (the far tone is back); baresip holds and resumes
// the browser; then the browser's tab closes in the middle of the call:
// the call ends, baresip gets its BYE, one CDR.
func TestPhoneHoldAndTabClose(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, WS: true})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true})
	b := startBrowser(t, 440)
	b.Open("a", phoneURL(sb, false))
	login(b, sb, "a", "1000")
	b.Eval("a", "sbPhone.call('1001')")
	expectTone(t, b, "a", 1000)
	b.Eval("a", "sbPhone.hold()")
	if !b.Info("a").Held {
		t.Fatal("not on hold")
	}
	expectSilence(t, b, "a")
	b.Eval("a", "sbPhone.unhold()")
	expectTone(t, b, "a", 1000)
	// Hold from the other side: baresip's re-INVITEs reach the browser as
	// WebRTC re-offers (same fingerprint and role, RFC 5763 §5); after the
	// resume the browser still hears baresip.
	bob.Command("hold")
	b.Eval("a", "(async () => { for (let i = 0; i < 100 && !sbPhone.info().remoteHeld; i++) await new Promise(r => setTimeout(r, 50)); })()")
	if pi := b.Info("a"); !pi.RemoteHeld || pi.Held {
		t.Fatalf("the browser did not see baresip's hold: %+v", pi)
	}
	bob.Command("resume")
	b.Eval("a", "(async () => { for (let i = 0; i < 100 && sbPhone.info().remoteHeld; i++) await new Promise(r => setTimeout(r, 50)); })()")
	if b.Info("a").RemoteHeld {
		t.Fatal("the browser did not see baresip's resume")
	}
	expectTone(t, b, "a", 1000)
	b.Close("a")
	if !bob.WaitEvent("CALL_CLOSED", 10*time.Second) {
		t.Fatalf("baresip's call did not end when the tab closed\n%s", tail(sb.Output(), 3000))
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].HangupSide != "caller" || recs[0].HangupReason != "websocket closed" {
		t.Fatalf("CDRs %+v, want one answered call hung up by the caller (websocket closed)", recs)
	}
	time.Sleep(time.Second)
	if recs := sb.CDRs(); len(recs) != 1 {
		t.Fatalf("%d CDRs, want exactly 1", len(recs))
	}
}

// TestPhoneTrunkEcho (issue 11): the browser calls out through a trunk (a
// sipp UAS echoing RTP) and hears its own tone back; the trunk's INVITE
// carries plain RTP/AVP and nothing of the browser (no .invalid host, no
// JsSIP, no ICE or DTLS attributes).
func TestPhoneTrunkEcho(t *testing.T) {
	// The browser offers PCMU only: relayed (SRTP to RTP, no decoding).
	t.Run("relay", func(t *testing.T) { phoneTrunkEcho(t, SBOptions{WS: true}, "PCMU", false) })
	// The browser offers Opus only, the trunk takes PCMU only: transcoded
	// both ways.
	t.Run("opus-pcmu", func(t *testing.T) {
		phoneTrunkEcho(t, SBOptions{WS: true, TrunkExtra: ", codecs: [PCMU, telephone-event]"}, "opus", true)
	})
}

func phoneTrunkEcho(t *testing.T, o SBOptions, codec string, transcoded bool) {
	uas := writeScenario(t, "uas-phone-trunk", `<recv request="INVITE"><action>
<ereg regexp="\.invalid" search_in="msg" check_it_inverse="true" assign_to="leak1"/>
<ereg regexp="JsSIP" search_in="msg" check_it_inverse="true" assign_to="leak2"/>
<ereg regexp="a=(ice-|fingerprint|setup)" search_in="body" check_it_inverse="true" assign_to="leak3"/>
<ereg regexp="m=audio [0-9]+ RTP/AVP " search_in="body" check_it="true" assign_to="avp"/>
</action></recv>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"),
		`<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("leak1", "leak2", "leak3", "avp"))
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, o)
	uasDone := sigSippUAS(t, dir, uas, "127.0.0.2", uasPort, uasPort+2, "-rtp_echo")
	b := startBrowser(t, 440)
	b.Open("a", phoneURL(sb, true))
	login(b, sb, "a", "1000")
	callTrunkNumber(b, codec)
	h := expectTone(t, b, "a", 440)
	t.Logf("the browser hears itself through the trunk: %.0f Hz at %.1f dBFS", h.Freq, h.Level)
	b.Eval("a", "sbPhone.hangup()")
	if r := <-uasDone; r.Err != nil {
		t.Fatalf("trunk sipp: %v\n%s", r.Err, tail(r.Out, 2500))
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].Trunk != "carrier" {
		t.Fatalf("CDRs %+v", recs)
	}
	t.Logf("codecs: browser %s, trunk %s, transcoded %v", recs[0].CodecA, recs[0].CodecB, recs[0].Transcoded)
	if recs[0].Transcoded != transcoded {
		t.Errorf("transcoded %v, want %v (codecs %s, %s)", recs[0].Transcoded, transcoded, recs[0].CodecA, recs[0].CodecB)
	}
}

// TestPhoneButtons: the page's own controls (not sbPhone): log in, dial
// 601 (the tone service: 1 kHz), the level meter shows it, hold and
// resume, the keypad, hang up, log out.
func TestPhoneButtons(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000"}, WS: true, Routes: `  - {match: '^601$', to: tone}`})
	b := startBrowser(t, 440)
	b.Open("a", phoneURL(sb, false))
	click := func(id string) { b.Eval("a", fmt.Sprintf("document.getElementById(%q).click()", id)) }
	status := func(want string) {
		t.Helper()
		js := fmt.Sprintf(`(async () => { const el = document.getElementById('status');
			for (let i = 0; i < 200 && !el.textContent.includes(%q); i++) await new Promise(r => setTimeout(r, 50));
			return el.textContent; })()`, want)
		var got string
		_ = json.Unmarshal(b.Eval("a", js), &got)
		if !strings.Contains(got, want) {
			t.Fatalf("status %q, want %q", got, want)
		}
	}
	b.Eval("a", fmt.Sprintf("document.getElementById('user').value = '1000'; document.getElementById('password').value = %q", sb.Users["1000"]))
	click("register")
	status("registered as 1000")
	b.Eval("a", "document.getElementById('number').value = '601'")
	click("dial")
	status("in call")
	expectTone(t, b, "a", 1000)
	var meter string
	_ = json.Unmarshal(b.Eval("a", `(async () => { await new Promise(r => setTimeout(r, 2500)); return document.getElementById('level').textContent; })()`), &meter)
	if !strings.Contains(meter, "Hz") {
		t.Errorf("level meter shows %q", meter)
	}
	click("hold")
	status("on hold")
	click("hold") // now "Resume"
	status("in call")
	b.Eval("a", "document.querySelector('#keypad button').click()") // digit 1
	if got := string(b.Eval("a", "sbPhone.state.digitsSent")); got != `"1"` {
		t.Errorf("keypad sent %s", got)
	}
	click("hangup")
	status("call ended")
	click("unregister")
	status("logged out")
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].Service != "tone" {
		t.Fatalf("CDRs %+v", recs)
	}
}

// callTrunkNumber has page "a" dial the trunk's 95551234, offering only
// codec when it is set.
func callTrunkNumber(b *Browser, codec string) {
	if codec != "" {
		b.Eval("a", fmt.Sprintf("sbPhone.call('95551234', {codecs: [%q]})", codec))
		return
	}
	b.Eval("a", "sbPhone.call('95551234')")
}
