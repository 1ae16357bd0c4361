package sipcorpus

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Transports are the transports Plan and Probes use, in order.
func Transports() []string { return []string{"udp", "tcp"} }

// Send is one message to one server instance over one transport.
type Send struct {
	Case      Case
	Transport string // "udp" or "tcp"
	Instance  int    // index of the server instance
	Want      string // expected outcome
}

// TxKey approximates the server transaction key sipgo derives from a
// message (RFC 3261 §17.2.3: branch, sent-by and method; RFC 2543 matching
// by Call-ID and CSeq when the branch lacks the magic cookie). It is never
// finer than sipgo's key, so two messages sipgo would match to one
// transaction always get the same key. It returns "" when sipgo creates no
// transaction (no Via or CSeq, unparsable, a response).
func TxKey(data []byte) string {
	m, err := sip.ParseMessage(data)
	if err != nil {
		return ""
	}
	req, ok := m.(*sip.Request)
	if !ok || req.Via() == nil || req.CSeq() == nil {
		return ""
	}
	method := req.CSeq().MethodName
	if method == sip.ACK || method == sip.CANCEL {
		method = sip.INVITE
	}
	via := req.Via()
	if b, _ := via.Params.Get("branch"); strings.HasPrefix(b, sip.RFC3261BranchMagicCookie) && len(b) > len(sip.RFC3261BranchMagicCookie) {
		port := via.Port
		if port <= 0 {
			port = sip.DefaultPort(via.Transport)
		}
		return fmt.Sprintf("b|%s|%s|%d|%s", b, via.Host, port, method)
	}
	cid := ""
	if req.CallID() != nil {
		cid = req.CallID().Value()
	}
	return fmt.Sprintf("c|%s|%d", cid, req.CSeq().SeqNo)
}

// Plan sends every case over UDP, then every case over TCP, expecting
// WantServer. The messages are byte-exact, so several share a transaction
// key and a server would take a second one for a retransmission of the
// first: each send goes to the lowest-numbered instance that has not yet
// seen its key (over either transport). Plan returns the sends and how many
// instances they need.
func Plan(cases []Case) (sends []Send, instances int) {
	var seen []map[string]bool // per instance
	for _, transport := range Transports() {
		for _, c := range cases {
			key, i := TxKey(c.Data), 0
			if key != "" {
				for i < len(seen) && seen[i][key] {
					i++
				}
				if i == len(seen) {
					seen = append(seen, map[string]bool{})
				}
				seen[i][key] = true
			}
			sends = append(sends, Send{Case: c, Transport: transport, Instance: i, Want: c.WantServer(transport)})
		}
	}
	return sends, max(len(seen), 1)
}

// Probes returns an OPTIONS request to each of n instances over each
// transport, expecting 200: the check that the servers survived the corpus.
func Probes(n int) []Send {
	var sends []Send
	for i := range n {
		for _, transport := range Transports() {
			msg := strings.Join([]string{
				"OPTIONS sip:ping@example.com SIP/2.0",
				fmt.Sprintf("Via: SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bK-alive-%d-%s;rport", strings.ToUpper(transport), i, transport),
				"From: <sip:probe@example.com>;tag=alive",
				"To: <sip:ping@example.com>",
				fmt.Sprintf("Call-ID: alive-%d-%s", i, transport),
				"CSeq: 1 OPTIONS",
				"Max-Forwards: 70",
				"Content-Length: 0",
			}, "\r\n") + "\r\n\r\n"
			sends = append(sends, Send{
				Case:      Case{File: "probe/OPTIONS", UDP: "200", TCP: "200", Server: "-", Note: "still serving after the corpus", Data: []byte(msg)},
				Transport: transport,
				Instance:  i,
				Want:      "200",
			})
		}
	}
	return sends
}
