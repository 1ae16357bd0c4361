package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/switchboard/switchboard/codecs"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/media/rtp"
)

// The test call: sbctl is a one-shot phone. It INVITEs the target
// (answering a digest challenge), offers G.711 from a local RTP socket,
// sends a tone for the call's duration, decodes what comes back, hangs up
// with BYE and reports the answer time, the packets each way, the loss
// seen in the returned stream and the tone it heard (frequency and level,
// measured by media's ToneMeter). Against an echo (Switchboard's echo
// service, or a trunk that loops RTP back) the heard tone is the sent one.

// callOptions are the test call's flags.
type callOptions struct {
	transport, user, password string
	tone                      float64
	duration, timeout         time.Duration
}

// callReport is what the test call measured.
type callReport struct {
	status          int
	answerAfter     time.Duration
	codec           string
	remote          string
	sent, received  int
	lost            int
	heard           media.ToneSummary
	firstAudioAfter time.Duration
}

func testCall(w io.Writer, target string, o callOptions) error {
	uri, cl, closeUA, err := sipClient(target)
	if err != nil {
		return err
	}
	defer closeUA()
	if t := strings.ToLower(o.transport); t != "udp" {
		// sipgo sends a dialog's requests over the Request-URI's transport.
		if uri.UriParams == nil {
			uri.UriParams = sip.NewParams()
		}
		uri.UriParams.Add("transport", t)
	}
	localIP, err := localAddrFor(uri)
	if err != nil {
		return err
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: localIP})
	if err != nil {
		return fmt.Errorf("RTP socket: %w", err)
	}
	defer conn.Close()
	rtpPort := conn.LocalAddr().(*net.UDPAddr).Port

	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "sbctl", Host: localIP.String()}}
	dc := sipgo.NewDialogClientCache(cl, contact)
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	user := o.user
	if user == "" {
		user = uri.User
	}
	// The caller is the digest user (Switchboard requires From to be
	// the authenticated user's).
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: uri.Host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	start := time.Now()
	sess, err := dc.Invite(ctx, uri, offerSDP(localIP, rtpPort), sip.NewHeader("Content-Type", "application/sdp"), from)
	if err != nil {
		return fmt.Errorf("INVITE %s: %w", target, err)
	}
	defer sess.Close()
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{Username: user, Password: o.password}); err != nil {
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return fmt.Errorf("call to %s refused: %d %s", target, de.Res.StatusCode, de.Res.Reason)
		}
		return fmt.Errorf("call to %s: %w", target, err)
	}
	rep := callReport{status: int(sess.InviteResponse.StatusCode), answerAfter: time.Since(start)}
	remote, pt, codec, err := answerMedia(sess.InviteResponse.Body())
	if err != nil {
		_ = sess.Ack(ctx)
		_ = sess.Bye(ctx)
		return fmt.Errorf("answer SDP: %w", err)
	}
	if err := sess.Ack(ctx); err != nil {
		return fmt.Errorf("ACK: %w", err)
	}
	rep.codec, rep.remote = codec.Name(), remote.String()

	streamErr := stream(conn, remote, pt, codec, o, &rep)
	byeCtx, byeCancel := context.WithTimeout(context.Background(), o.timeout)
	defer byeCancel()
	byeErr := sess.Bye(byeCtx)
	printReport(w, target, rep)
	if streamErr != nil {
		return streamErr
	}
	if byeErr != nil {
		return fmt.Errorf("BYE: %w", byeErr)
	}
	if rep.received == 0 {
		return errors.New("no RTP came back")
	}
	return nil
}

// localAddrFor is the local address the system routes toward uri's host.
func localAddrFor(uri sip.Uri) (net.IP, error) {
	port := uri.Port
	if port == 0 {
		port = 5060
	}
	c, err := net.Dial("udp", net.JoinHostPort(uri.Host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("no route to %s: %w", uri.Host, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP, nil
}

// offerSDP offers PCMU and PCMA, 20 ms.
func offerSDP(ip net.IP, port int) []byte {
	family := "IP4"
	if ip.To4() == nil {
		family = "IP6"
	}
	id := strconv.FormatInt(time.Now().Unix(), 10)
	return []byte(strings.Join([]string{
		"v=0",
		"o=sbctl " + id + " " + id + " IN " + family + " " + ip.String(),
		"s=sbctl test call",
		"c=IN " + family + " " + ip.String(),
		"t=0 0",
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0 8",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:8 PCMA/8000",
		"a=ptime:20",
		"a=sendrecv",
		"",
	}, "\r\n"))
}

// answerMedia reads the answer's audio address and the codec it chose.
func answerMedia(body []byte) (*net.UDPAddr, uint8, codecs.Codec, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, 0, nil, err
	}
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		conn := sd.ConnectionInformation
		if m.ConnectionInformation != nil {
			conn = m.ConnectionInformation
		}
		if conn == nil || conn.Address == nil {
			return nil, 0, nil, errors.New("no c= line")
		}
		ip := net.ParseIP(conn.Address.Address)
		if ip == nil {
			return nil, 0, nil, fmt.Errorf("c= address %q", conn.Address.Address)
		}
		for _, f := range m.MediaName.Formats {
			switch f {
			case "0":
				return &net.UDPAddr{IP: ip, Port: m.MediaName.Port.Value}, 0, codecs.PCMU(), nil
			case "8":
				return &net.UDPAddr{IP: ip, Port: m.MediaName.Port.Value}, 8, codecs.PCMA(), nil
			}
		}
		return nil, 0, nil, fmt.Errorf("answer chose none of PCMU, PCMA: %v", m.MediaName.Formats)
	}
	return nil, 0, nil, errors.New("no audio stream in the answer")
}

// stream sends the tone in 20 ms packets for o.duration while decoding
// what arrives into a ToneMeter.
func stream(conn *net.UDPConn, remote *net.UDPAddr, pt uint8, codec codecs.Codec, o callOptions, rep *callReport) error {
	enc, err := codec.NewEncoder(codecs.Params{})
	if err != nil {
		return err
	}
	dec, err := codec.NewDecoder(codecs.Params{})
	if err != nil {
		return err
	}
	meter := media.NewToneMeter()
	started := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		pcm := make([]int16, 1000)
		var first, last uint16
		n := 0
		for {
			_ = conn.SetReadDeadline(time.Now().Add(o.duration + time.Second - time.Since(started)))
			l, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				break
			}
			h, ok := rtp.Parse(buf[:l])
			if !ok || h.PT != pt {
				continue
			}
			if n == 0 {
				first = h.Seq
				rep.firstAudioAfter = time.Since(started)
			}
			last, n = h.Seq, n+1
			k, err := dec.Decode(h.Payload(buf[:l]), pcm)
			if err == nil {
				meter.WritePCM(pcm[:k], 8000, time.Now())
			}
		}
		rep.received = n
		if n > 0 {
			rep.lost = max(0, int(last-first)+1-n)
		}
	}()

	var ssrcB [4]byte
	_, _ = rand.Read(ssrcB[:])
	h := rtp.Header{PT: pt, SSRC: binary.BigEndian.Uint32(ssrcB[:]), Marker: true}
	const frame = 160
	pcm := make([]int16, frame)
	pkt := make([]byte, rtp.FixedHeaderSize+enc.MaxPayloadSize())
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var sendErr error
	for i := 0; time.Since(started) < o.duration; i++ {
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*o.tone*float64(i*frame+j)/8000))
		}
		n := h.PutFixed(pkt)
		m, err := enc.Encode(pcm, pkt[n:])
		if err != nil {
			sendErr = err
			break
		}
		if _, err := conn.WriteToUDP(pkt[:n+m], remote); err != nil {
			sendErr = fmt.Errorf("RTP to %s: %w", remote, err)
			break
		}
		rep.sent++
		h.Marker = false
		h.Seq++
		h.TS += frame
		<-tick.C
	}
	wg.Wait()
	rep.heard = meter.Summary()
	return sendErr
}

func printReport(w io.Writer, target string, r callReport) {
	fmt.Fprintf(w, "call to %s: %d answered in %.1f ms, %s with %s\n", target, r.status, ms(r.answerAfter), r.codec, r.remote)
	fmt.Fprintf(w, "sent %d packets; received %d, %d lost", r.sent, r.received, r.lost)
	if r.received > 0 {
		fmt.Fprintf(w, ", first after %.1f ms", ms(r.firstAudioAfter))
	}
	fmt.Fprintln(w)
	if r.heard.Frequency > 0 {
		fmt.Fprintf(w, "heard %.0f Hz at %.1f dBov\n", r.heard.Frequency, r.heard.RecentDBov)
	} else {
		fmt.Fprintln(w, "heard silence")
	}
}
