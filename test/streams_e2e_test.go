package test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 17: every stream a call carries.

// StreamCDR is a CDR's record of a stream beside audio (cdr.StreamRecord).
type StreamCDR struct {
	Index       int     `json:"index"`
	Media       string  `json:"media"`
	Mode        string  `json:"mode"`
	CodecA      string  `json:"codec_a"`
	AToBPackets uint64  `json:"a_to_b_packets"`
	BToAPackets uint64  `json:"b_to_a_packets"`
	AToBKbps    float64 `json:"a_to_b_kbps"`
	BToAKbps    float64 `json:"b_to_a_kbps"`
	FeedbackToA uint64  `json:"feedback_to_a"`
	FeedbackToB uint64  `json:"feedback_to_b"`
	Quality     *struct {
		Legs []map[string]any `json:"legs"`
	} `json:"quality"`
}

// avSDP is an offer or answer with an audio, a VP8 video and a third
// m-line; third is that line as written (port and all).
func avSDP(videoPort, third string) string {
	return sdp("sendrecv") + `m=video ` + videoPort + ` RTP/AVP 96
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack pli
a=rtcp-fb:96 ccm fir
a=sendrecv
` + third
}

// layoutCheck asserts, on the message received, that the SDP has the
// three m-lines in order: audio with a port, video with a port (or 0 when
// videoZero), and the third with port 0.
func layoutCheck(name, video, third string) string {
	return `<action>
<ereg regexp="m=audio [1-9][0-9]* RTP/AVP [^[:cntrl:]]*[[:cntrl:]]+(.*[[:cntrl:]]+)?m=video ` + video + ` RTP/AVP 96[^[:cntrl:]]*[[:cntrl:]]+(.*[[:cntrl:]]+)?m=` + third + ` 0 " search_in="body" check_it="true" assign_to="` + name + `"/>
</action>`
}

// layoutCase runs a call whose caller offers audio + VP8 + an x-whiteboard
// stream through the trunk: the callee checks it was offered video as
// offered ("0" or a port pattern) and answers video at calleeVideo; the
// caller checks its answer's video (answered) and that both legs always
// see three m-lines with the unknown one at port 0.
func layoutCase(t *testing.T, o SBOptions, offered, calleeVideo, answered string) CDR {
	t.Helper()
	uas := writeScenario(t, "uas-streams",
		`<recv request="INVITE">`+layoutCheck("offered", offered, "x-whiteboard")+`</recv>`,
		reply("180", "Ringing", false, ""),
		replyWith("200", "OK", true, avSDP(calleeVideo, "m=x-whiteboard 0 RTP/AVP 99\n")), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("offered"))
	uac := writeScenario(t, "uac-streams",
		uacInviteWith(avSDP("[media_port+2]", "m=x-whiteboard 5000 RTP/AVP 99\na=rtpmap:99 x-wb/90000\n")),
		`<recv response="180" optional="true"/>`,
		`<recv response="200">`+layoutCheck("answered", answered, "x-whiteboard")+`</recv>`,
		uacAck("2"), `<pause milliseconds="300"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`, refs("answered"))
	c := callCase(t, o, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	return c
}

const anyPort = "[1-9][0-9]*"

// TestStreamsAnswerKeepsLayout: an offer of audio + VP8 video + a stream
// of a media type Switchboard does not know (pion/sdp refuses it) is
// accepted; the callee is offered the same three m-lines (video at
// Switchboard's port, the unknown one with port 0), and the caller's
// answer has three m-lines in order, the unknown one with port 0 (RFC
// 3264 §6). The CDR has the video stream, relayed.
func TestStreamsAnswerKeepsLayout(t *testing.T) {
	c := layoutCase(t, SBOptions{}, anyPort, "[media_port+2]", anyPort)
	if len(c.Streams) != 1 || c.Streams[0].Media != "video" || c.Streams[0].Index != 1 || c.Streams[0].Mode != "relayed" {
		t.Errorf("CDR streams %+v, want one relayed video at index 1", c.Streams)
	}
}

// TestStreamsVideoRefusedByCallee: the callee refuses the video (port 0);
// the caller's answer refuses it too, audio goes on.
func TestStreamsVideoRefusedByCallee(t *testing.T) {
	c := layoutCase(t, SBOptions{}, anyPort, "0", "0")
	if len(c.Streams) != 1 || c.Streams[0].Mode != "refused" {
		t.Errorf("CDR streams %+v, want one refused video", c.Streams)
	}
}

// TestStreamsVideoDropPolicy: with video: drop on the trunk, the callee
// is offered the video with port 0 and the caller's answer refuses it.
func TestStreamsVideoDropPolicy(t *testing.T) {
	layoutCase(t, SBOptions{TrunkExtra: ", video: drop"}, "0", "0", "0")
}

// videoAgent is the baresip config of an agent with a fake camera (a
// test pattern) sending VP8, and a fake display that decodes what it gets.
const videoAgent = "module fakevideo.so\nmodule vp8.so\nmodule rtcpsummary.so\nvideo_source fakevideo,nil\nvideo_display fakevideo,nil\nvideo_size 320x240\nvideo_bitrate 300000\nvideo_fps 15\n"

// TestStreamsBaresipVideo (issue 17): two baresips with video call each
// other through Switchboard: each hears the other's tone, and the video
// stream is relayed both ways (RTP counted per leg in the CDR); a callee
// without video gets the call with video refused (port 0) and audio works.
func TestStreamsBaresipVideo(t *testing.T) {
	for _, tc := range []struct {
		name        string
		calleeVideo bool
	}{{"both with video", true}, {"callee without video", false}} {
		t.Run(tc.name, func(t *testing.T) {
			apiAddr := fmt.Sprintf("127.0.0.1:%d", 15000+10*instance())
			sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Extra: "api:\n  listen: " + apiAddr + "\n"})
			alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true,
				Modules: []string{"g711"}, Config: videoAgent})
			bobCfg := "module rtcpsummary.so\n"
			if tc.calleeVideo {
				bobCfg = videoAgent
			}
			bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true,
				Modules: []string{"g711"}, Config: bobCfg})
			live := make(chan []StreamCDR, 1)
			go func() { live <- apiStreams(sb, alice, apiAddr) }()
			rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort), 4*time.Second)
			if ls := <-live; len(ls) != 1 || ls[0].Media != "video" || (tc.calleeVideo && (ls[0].AToBPackets == 0 || ls[0].BToAPackets == 0)) {
				t.Errorf("the API's streams of the call in progress: %+v", ls)
			}
			if len(rec.Streams) != 1 || rec.Streams[0].Media != "video" {
				t.Fatalf("CDR streams %+v, want one video", rec.Streams)
			}
			v := rec.Streams[0]
			t.Logf("video stream in the CDR: %+v", v)
			if !tc.calleeVideo {
				if v.Mode != "refused" || v.AToBPackets+v.BToAPackets != 0 {
					t.Fatalf("video %+v, want refused with no packets", v)
				}
				if strings.Contains(alice.out.String(), "video: receiving") {
					t.Fatal("the caller received video the callee cannot send")
				}
				return
			}
			if v.Mode != "relayed" || v.CodecA != "VP8" || v.AToBPackets < 20 || v.BToAPackets < 20 || v.AToBKbps <= 0 || v.BToAKbps <= 0 {
				t.Fatalf("video %+v, want VP8 relayed both ways", v)
			}
			if v.Quality == nil || len(v.Quality.Legs) != 2 {
				t.Fatalf("video quality %+v, want a record per leg", v.Quality)
			}
			t.Logf("video quality per leg: %v", v.Quality.Legs)
			for _, b := range []*Baresip{alice, bob} {
				checkVideoReceived(t, b)
			}
		})
	}
}

// apiStreams returns the streams of the one call in progress as the
// operations API shows them, two seconds after the caller's call is up
// (nil on any failure: the caller compares).
func apiStreams(sb *SB, caller *Baresip, apiAddr string) []StreamCDR {
	if !caller.WaitEvent("CALL_ESTABLISHED", 10*time.Second) {
		return nil
	}
	time.Sleep(2 * time.Second)
	tok, err := os.ReadFile(filepath.Join(sb.Dir, "state", "api_token"))
	if err != nil {
		return nil
	}
	req, _ := http.NewRequest("GET", "http://"+apiAddr+"/api/v1/calls", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	var calls []struct {
		Streams []StreamCDR `json:"streams"`
	}
	if json.NewDecoder(res.Body).Decode(&calls) != nil || len(calls) != 1 {
		return nil
	}
	return calls[0].Streams
}

// reRTCPSummary is the received-packets field of baresip's rtcpsummary
// line for a stream (one per stream, audio first, at the call's end).
var reRTCPSummary = regexp.MustCompile(`EX=BareSip;[^\n]*;PR=(\d+);`)

// checkVideoReceived asserts that the agent decoded the far side's video
// (baresip prints the first decoded frame's resolution) and that its own
// RTCP summary of the video stream counts the packets received.
func checkVideoReceived(t *testing.T, b *Baresip) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	var m [][]string
	for time.Now().Before(deadline) {
		if m = reRTCPSummary.FindAllStringSubmatch(b.out.String(), -1); len(m) >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := b.out.String()
	if !strings.Contains(out, "video: receiving with resolution") {
		t.Errorf("baresip %s decoded no video frame:\n%s", b.Dir, grepLines(out, "video", 12))
	}
	if len(m) < 2 {
		t.Fatalf("baresip %s printed no RTCP summary of its video stream:\n%s", b.Dir, grepLines(out, "EX=", 4))
	}
	if n, _ := strconv.Atoi(m[1][1]); n < 20 {
		t.Errorf("baresip %s received %d video packets, want at least 20", b.Dir, n)
	}
}

// grepLines returns at most n lines of s that contain sub.
func grepLines(s, sub string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && len(out) < n {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// videoCheck asserts that the message's SDP has a video m-line at port
// (a pattern).
func videoCheck(name, port string) string {
	return `<action><ereg regexp="m=video ` + port + ` RTP/AVP 96" search_in="body" check_it="true" assign_to="` + name + `"/></action>`
}

// TestStreamsVideoAddedAndRemoved: an audio call gets video by the
// caller's re-INVITE (appended m-line, RFC 3264 §8.1): the callee is
// offered it at Switchboard's port and the caller answered at another;
// a later re-INVITE with video at port 0 removes it on both legs (§8.2).
func TestStreamsVideoAddedAndRemoved(t *testing.T) {
	uas := writeScenario(t, "uas-addvideo", append(calleeAnswered(`<recv request="INVITE"/>`),
		`<recv request="INVITE">`+videoCheck("added", anyPort)+`</recv>`, replyWith("200", "OK", false, avSDP("[media_port+2]", "")), `<recv request="ACK"/>`,
		`<recv request="INVITE">`+videoCheck("removed", "0")+`</recv>`, replyWith("200", "OK", false, avSDP("0", "")), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("added", "removed"))...)
	uac := writeScenario(t, "uac-addvideo", append(callerAnswered(),
		uacInDialog("INVITE", "3", "", avSDP("[media_port+2]", "")), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+videoCheck("added", anyPort)+`</recv>`, uacAck("3"), `<pause milliseconds="200"/>`,
		uacInDialog("INVITE", "4", "", avSDP("0", "")), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+videoCheck("removed", "0")+`</recv>`, uacAck("4"), `<pause milliseconds="200"/>`,
		uacInDialog("BYE", "5", "", ""), `<recv response="200"/>`, refs("added", "removed"))...)
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	if len(c.Streams) != 1 || c.Streams[0].Media != "video" || c.Streams[0].Mode != "relayed" {
		t.Errorf("CDR streams %+v, want the video that was relayed for a while", c.Streams)
	}
}

// TestStreamsServiceAnswerKeepsLayout: a call Switchboard answers itself
// (the echo service) answers an audio + video + unknown offer with three
// m-lines, video and the unknown one refused.
func TestStreamsServiceAnswerKeepsLayout(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000"}, Routes: serviceRoutes("")})
	uac := writeScenario(t, "uac-echo-streams",
		uacInviteWith(avSDP("[media_port+2]", "m=x-whiteboard 5000 RTP/AVP 99\n")),
		`<recv response="200">`+layoutCheck("answered", "0", "x-whiteboard")+`</recv>`,
		uacAck("2"), `<pause milliseconds="300"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`, refs("answered"))
	callerSipp(t, sb, uac, "600")
}

// callerSipp runs the caller scenario uac once as user 1000 dialling
// number, and fails the test unless the call succeeded.
func callerSipp(t *testing.T, sb *SB, uac, number string) {
	t.Helper()
	port := 15000 + 10*instance()
	r := runSipp(t, t.TempDir(), 30*time.Second, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.3", "-mp", strconv.Itoa(port+2), "-s", number, "-key", "user", "1000",
		"-au", "1000", "-ap", sb.Users["1000"], "-m", "1", "-timeout", "20s", "-timeout_error")
	if r.Stats.Successful != 1 || r.Err != nil {
		t.Fatalf("caller sipp failed: %v\n%s", r.Err, tail(r.Out, 2500))
	}
}

// TestStreamsNoPlainVideoWithSRTPRequired: toward a trunk with srtp:
// required, the audio is offered as RTP/SAVP and the video (relayed in
// plain RTP only) is refused in the offer, port 0, not sent in clear.
// The sipp callee answers plain, so the call then fails as
// TestSRTPRequiredTowardPlainPeerFails does.
func TestStreamsNoPlainVideoWithSRTPRequired(t *testing.T) {
	uas := writeScenario(t, "uas-savp-video",
		`<recv request="INVITE"><action><ereg regexp="m=audio [0-9]+ RTP/SAVP .*m=video 0 RTP/AVP 96" search_in="body" check_it="true" assign_to="savp"/></action></recv>`,
		replyWith("200", "OK", true, avSDP("0", "")), `<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("savp"))
	uac := writeScenario(t, "uac-savp-video", uacInviteWith(avSDP("[media_port+2]", "")), `<recv response="180" optional="true"/>`, `<recv response="488"/>`, uacAckFinal())
	rec := callCase(t, SBOptions{TrunkExtra: ", srtp: required"}, uas, uac)
	expectCDR(t, rec, 488, "failed", "callee")
}
