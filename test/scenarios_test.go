package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Sipp scenario fragments. A scenario is assembled from these so each call
// case reads as a short list of steps. The caller runs as user [user] with
// digest credentials from -au/-ap; sdp(dir) is the caller's/callee's offer.

func sdp(dir string) string {
	return `v=0
o=user1 53655765 [cseq] IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=` + dir + `
`
}

func cdata(s string) string { return "<![CDATA[\n\n" + s + "\n]]>" }

const uacHdrs = `Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[user]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
Call-ID: [call_id]
Contact: <sip:[user]@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70`

// uacInvite: INVITE, 407, ACK, INVITE with credentials (CSeq 1 and 2).
func uacInvite() string { return uacInviteWith(sdp("sendrecv")) }

// uacInviteWith is uacInvite with a given body ("" = late offer, no SDP).
func uacInviteWith(body string) string { return uacInviteHeaders("", body) }

// uacInviteHeaders is uacInviteWith with extra header lines (each ending
// in a newline) in both INVITEs.
func uacInviteHeaders(extra, body string) string {
	ct := extra + "Content-Type: application/sdp\n"
	if body == "" {
		ct = extra
	}
	inv := func(cseq, auth string) string {
		return `<send retrans="500">` + cdata(`INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
`+uacHdrs+`
To: <sip:[service]@[remote_ip]:[remote_port]>
CSeq: `+cseq+` INVITE
`+auth+ct+`Content-Length: [len]

`+body) + "</send>\n"
	}
	return inv("1", "") + `<recv response="100" optional="true"/>
<recv response="407" auth="true"/>
<send>` + cdata(`ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
`) + "</send>\n" + inv("2", "[authentication]\n") + `<recv response="100" optional="true"/>
`
}

// uacInDialog sends an in-dialog request from the caller (after 2xx). A
// body is SDP unless extra names its Content-Type.
func uacInDialog(method, cseq, extra, body string) string {
	ct := ""
	if body != "" && !strings.Contains(extra, "Content-Type:") {
		ct = "Content-Type: application/sdp\n"
	}
	return `<send retrans="500">` + cdata(method+` [next_url] SIP/2.0
`+uacHdrs+`
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
[routes]
CSeq: `+cseq+` `+method+`
`+extra+ct+`Content-Length: [len]

`+body) + "</send>\n"
}

func uacAck(cseq string) string {
	return `<send>` + cdata(`ACK [next_url] SIP/2.0
`+uacHdrs+`
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
[routes]
CSeq: `+cseq+` ACK
Content-Length: 0
`) + "</send>\n"
}

// reply answers the last received request; tag adds our To tag.
func reply(code, text string, withSDP bool, dir string) string {
	return replyWith(code, text, true, sdpIf(withSDP, dir))
}

// replyNoTag answers an in-dialog request (its To already has a tag).
func replyNoTag(code, text string, withSDP bool, dir string) string {
	return replyWith(code, text, false, sdpIf(withSDP, dir))
}

func sdpIf(withSDP bool, dir string) string {
	if !withSDP {
		return ""
	}
	return sdp(dir)
}

// replyWith answers the last received request with an SDP body ("" for
// none); tag adds our To tag (a response that creates the dialog).
func replyWith(code, text string, tag bool, body string) string {
	ct, to := "", "[last_To:]"
	if body != "" {
		ct = "Content-Type: application/sdp\n"
	}
	if tag {
		to += ";tag=[pid]SIPpTag01[call_number]"
	}
	return `<send>` + cdata(`SIP/2.0 `+code+` `+text+`
[last_Via:]
[last_From:]
`+to+`
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
`+ct+`Content-Length: [len]

`+body) + "</send>\n"
}

// uasInDialog sends a request from the callee side of an established call.
// The callee's dialog: its local tag is SIPpTag01, the remote is Switchboard.
func uasInDialog(method, cseq, body string) string {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\n"
	}
	return `<send retrans="500">` + cdata(method+` [$remote_contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:callee@[local_ip]>;tag=[pid]SIPpTag01[call_number]
To: [$remote_from]
Call-ID: [call_id]
CSeq: `+cseq+` `+method+`
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
`+ct+`Content-Length: [len]

`+body) + "</send>\n"
}

func uasAck(cseq string) string {
	return `<send>` + cdata(`ACK [$remote_contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:callee@[local_ip]>;tag=[pid]SIPpTag01[call_number]
To: [$remote_from]
Call-ID: [call_id]
CSeq: `+cseq+` ACK
Max-Forwards: 70
Content-Length: 0
`) + "</send>\n"
}

// captureFrom stores the INVITE's From header (Switchboard's side of the
// callee dialog) for requests the callee sends later.
const captureFrom = `<action>
<ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_from"/>
<ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" assign_to="remote_contact"/>
</action>`

// writeScenario writes a scenario file and returns its path.
func writeScenario(t testing.TB, name string, steps ...string) string {
	t.Helper()
	if strings.HasPrefix(name, "uac") {
		// sipp fills [next_url] and [routes] only from responses received
		// with rrs="true" (the caller's in-dialog requests need them).
		steps = append([]string(nil), steps...)
		for i := range steps {
			steps[i] = strings.ReplaceAll(steps[i], `<recv response="200"`, `<recv response="200" rrs="true"`)
		}
	}
	body := `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="` + name + `">
` + strings.Join(steps, "\n") + `
</scenario>
`
	p := filepath.Join(t.TempDir(), name+".xml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// uas487 ends the callee's INVITE transaction after a CANCEL (the CANCEL
// was just received, so [last_*] are its headers; Switchboard's INVITE
// always has CSeq 1).
func uas487() string {
	return `<send>` + cdata(`SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: 1 INVITE
Content-Length: 0
`) + `</send>`
}

// uacAckFinal acknowledges a non-2xx final to the caller's INVITE (CSeq 2):
// same branch as the INVITE, taken from the response (RFC 3261 §17.1.1.3).
func uacAckFinal() string {
	return `<send>` + cdata(`ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0
`) + `</send>`
}

// uacCancel cancels the caller's INVITE (CSeq 2). via must repeat the
// INVITE's Via (RFC 3261 §9.1): "[last_Via:]" right after a provisional,
// or the INVITE's branch written out.
func uacCancel(via string) string {
	return `<send>` + cdata(`CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
`+via+`
From: <sip:[user]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 2 CANCEL
Max-Forwards: 70
Content-Length: 0
`) + `</send>`
}
