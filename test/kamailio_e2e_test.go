package test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKamailioScaleOut runs the reference configuration in
// configs/kamailio (Debian's kamailio, dispatcher with OPTIONS probing)
// in front of three Switchboard instances: calls are spread over them;
// one instance drained with SIGTERM answers 503 to new calls and Kamailio
// sends them to the others with no failed call; one instance SIGKILLed
// costs no new call either (an INVITE sent to it times out in Kamailio
// and goes to the survivor; the probes take it out of the set). Every
// answered call has its record on the instance that carried it.
func TestKamailioScaleOut(t *testing.T) {
	requireTool(t, "sipp")
	kam := requireTool(t, "kamailio")
	dir := t.TempDir()
	kport := 15000 + 10*instance()
	uasPort := 15000 + 10*instance()
	trunks := fmt.Sprintf(`  - {name: carrier, uri: "sip:127.0.0.2:%d", trusted: [127.0.0.2/32]}
  - {name: kamailio, uri: "sip:127.0.0.4:%d", trusted: [127.0.0.4/32], transit_to: [carrier]}`, uasPort, kport)
	routes := `  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}`
	var sbs []*SB
	var list strings.Builder
	for range 3 {
		sb := startSB(t, SBOptions{Trunks: trunks, Routes: routes, Grace: "20s"})
		sbs = append(sbs, sb)
		fmt.Fprintf(&list, "1 sip:%s\n", sb.Addr())
	}
	startSipp(t, dir, "-sn", "uas", "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort), "-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2))
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))

	klog := startKamailioFront(t, kam, dir, kport, list.String())

	// The caller follows the Record-Route set (Kamailio) for ACK and BYE.
	uac := writeScenario(t, "uac-kamailio", sigTrustedInvite(sdp("sendrecv")),
		`<recv response="100" optional="true"/>`, `<recv response="180" optional="true"/>`, `<recv response="183" optional="true"/>`,
		`<recv response="200"/>`, uacAck("1"), `<pause milliseconds="500"/>`, uacInDialog("BYE", "2", "", ""), `<recv response="200"/>`)
	calls := func(n int) Sipp {
		return runSipp(t, dir, 90*time.Second, "-sf", uac, fmt.Sprintf("127.0.0.4:%d", kport), "-i", "127.0.0.3",
			"-p", strconv.Itoa(uasPort+4), "-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6),
			"-s", "95551234", "-key", "user", "caller", "-r", "10", "-m", strconv.Itoa(n), "-timeout", "80s")
	}
	answered := func(sb *SB) int {
		n := 0
		for _, c := range sb.CDRs() {
			if c.Status == 200 {
				n++
			}
		}
		return n
	}
	okCalls := func(what string, r Sipp, n int) {
		t.Helper()
		if r.Stats.Successful != n || r.Stats.Failed != 0 {
			t.Fatalf("%s: %d of %d calls succeeded, %d failed\n%s", what, r.Stats.Successful, n, r.Stats.Failed, tail(r.Out, 2500))
		}
	}

	// 1. Spread: 30 calls over three instances.
	okCalls("spread", calls(30), 30)
	time.Sleep(500 * time.Millisecond)
	for i, sb := range sbs {
		if n := answered(sb); n < 5 {
			t.Errorf("instance %d carried %d of 30 calls: not spread", i, n)
		}
	}

	// 2. Drain instance 2 while calls arrive: none fails.
	before := []int{answered(sbs[0]), answered(sbs[1]), answered(sbs[2])}
	done := make(chan Sipp, 1)
	go func() { done <- calls(30) }()
	time.Sleep(1 * time.Second)
	sbs[2].Signal(syscall.SIGTERM)
	okCalls("during a drain", <-done, 30)
	if !sbs[2].waitOutput("msg=draining", 5*time.Second) {
		t.Error("instance 2 did not drain")
	}

	// 3. SIGKILL instance 1, then place calls at once: none fails (an
	// INVITE Kamailio sends to the dead instance times out after
	// fr_timer and goes to the survivor; the probes then take the dead
	// one out of the set), and the survivor carries them all.
	mid := answered(sbs[0])
	sbs[1].Signal(syscall.SIGKILL)
	okCalls("after a SIGKILL", calls(20), 20)
	if got := answered(sbs[0]) - mid; got != 20 {
		t.Errorf("the survivor carried %d of the last 20 calls, want all", got)
	}
	if !strings.Contains(klog.String(), "failed (408); trying the next") {
		t.Error("Kamailio never failed over from the killed instance")
	}
	total := 0
	for i, sb := range sbs {
		total += answered(sb)
		t.Logf("instance %d: %d answered calls (before the drain %d)", i, answered(sb), before[i])
	}
	if total != 80 {
		t.Errorf("%d answered records over the instances for 80 calls", total)
	}
}

// startKamailioFront runs Kamailio with the repository's configuration
// (configs/kamailio) on 127.0.0.4:kport in front of the instances listed
// in list (dispatcher.list lines), its local settings beside it as an
// operator would write them, and waits for the first probes. It returns
// Kamailio's log.
func startKamailioFront(t testing.TB, kam, dir string, kport int, list string) *syncBuffer {
	t.Helper()
	cfg, err := os.ReadFile("../configs/kamailio/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	kdir := filepath.Join(dir, "kamailio")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		t.Fatal(err)
	}
	listPath := filepath.Join(kdir, "dispatcher.list")
	local := fmt.Sprintf("#!define SB_LISTEN udp:127.0.0.4:%d\n#!define SB_DISPATCHER_LIST %q\n", kport, listPath)
	for name, body := range map[string]string{"kamailio.cfg": string(cfg), "switchboard-local.cfg": local, "dispatcher.list": list} {
		if err := os.WriteFile(filepath.Join(kdir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k := exec.Command(kam, "-DD", "-E", "-f", filepath.Join(kdir, "kamailio.cfg"), "-Y", kdir, "-w", kdir)
	klog := &syncBuffer{}
	pr, pw, _ := os.Pipe()
	k.Stdout, k.Stderr = pw, pw
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			klog.Write([]byte(sc.Text() + "\n"))
		}
	}()
	t.Cleanup(func() {
		_ = k.Process.Signal(syscall.SIGTERM)
		_ = k.Wait()
		if t.Failed() {
			t.Logf("kamailio log:\n%s", tail(klog.String(), 6000))
		}
	})
	waitPort(t, "udp", fmt.Sprintf("127.0.0.4:%d", kport))
	time.Sleep(2500 * time.Millisecond) // the first OPTIONS probes mark the instances up
	return klog
}
