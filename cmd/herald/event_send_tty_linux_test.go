package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"herald/internal/testtool"
)

// openPTY opens a pseudo-terminal: what is written to term is read from tty, as typed.
func openPTY(t *testing.T) (term, tty *os.File) {
	t.Helper()
	term, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { term.Close() })
	var unlock, n int32
	if err := ioctl(term, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Skipf("unlock the pseudo-terminal: %v", err)
	}
	if err := ioctl(term, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Skipf("name the pseudo-terminal: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return term, tty
}

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

// TestEventSend_saysItReadsATerminal: with stdin a terminal and no file, the command says
// what it waits for and how to end it, then reads what is typed; from a pipe it says nothing.
func TestEventSend_saysItReadsATerminal(t *testing.T) {
	srv := startFakeRecorder(t, 1<<20, nil)
	term, tty := openPTY(t)
	root := newRootCommand()
	var out bytes.Buffer
	errOut := &testtool.Buffer{}
	root.SetArgs([]string{"event", "send", "--url", srv.URL})
	root.SetIn(tty)
	root.SetOut(&out)
	root.SetErr(errOut)
	done := make(chan error)
	go func() { done <- root.ExecuteContext(context.Background()) }()
	waitFor(t, "the hint", 5*time.Second, func() bool { return strings.Contains(errOut.String(), stdinHint) })
	if got := errOut.String(); got != stdinHint+"\n" {
		t.Errorf("stderr = %q, want the hint alone", got)
	}
	if _, err := term.WriteString(kafkaEvents("typed", 1) + "\x04"); err != nil { // Ctrl-D ends the input
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil || out.String() != "Sent 1 event: 1 recorded, 0 duplicates\n" {
			t.Errorf("event send: %v, stdout %q", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("event send did not end with Ctrl-D")
	}

	_, errPiped, err := runCLI(t, kafkaEvents("piped", 1), "event", "send", "--url", srv.URL)
	if err != nil || strings.Contains(errPiped, stdinHint) {
		t.Errorf("from a pipe: %v, stderr %q", err, errPiped)
	}
}

// TestIsTerminal: a pseudo-terminal is one; /dev/null, a character device too, is not, so
// that `herald event send < /dev/null` does not say it waits for typing.
func TestIsTerminal(t *testing.T) {
	_, tty := openPTY(t)
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if !isTerminal(tty) || isTerminal(null) {
		t.Errorf("isTerminal: pseudo-terminal %v (want true), %s %v (want false)", isTerminal(tty), os.DevNull, isTerminal(null))
	}
}
