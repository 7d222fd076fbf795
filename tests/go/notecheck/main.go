// notecheck verifies a CTng logger's checkpoint with golang.org/x/mod/sumdb/note,
// the signed-note implementation transparency-log witnesses use
// (tests/integration/test_logger_daemon.c runs it; built offline in GOPATH
// mode against Debian's golang-golang-x-mod-dev).
//
// usage: notecheck VKEY < checkpoint
//
// Exits 0 when the note verifies with VKEY, its text is a C2SP
// tlog-checkpoint whose origin is the key name, it also carries one other
// signature by the same name (the static-ct-api RFC6962NoteSignature), and
// the same note with its tree size changed does NOT verify. Prints the
// origin, size and root on success; the reason on stderr otherwise (exit 1).
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "notecheck: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: notecheck VKEY < checkpoint")
	}
	v, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fail("bad vkey: %v", err)
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("read: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("checkpoint does not verify: %v", err)
	}
	if len(n.Sigs) != 1 || n.Sigs[0].Name != v.Name() || n.Sigs[0].Hash != v.KeyHash() {
		fail("expected exactly one verified signature by %s", v.Name())
	}
	if len(n.UnverifiedSigs) != 1 || n.UnverifiedSigs[0].Name != v.Name() {
		fail("expected the RFC6962NoteSignature as the other signature, got %d", len(n.UnverifiedSigs))
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != v.Name() {
		fail("text is not a checkpoint with origin %s: %q", v.Name(), n.Text)
	}
	// Tamper with the tree size: it must no longer verify.
	bad := bytes.Replace(msg, []byte("\n"+lines[1]+"\n"), []byte("\n"+lines[1]+"0\n"), 1)
	if _, err := note.Open(bad, note.VerifierList(v)); err == nil {
		fail("a checkpoint with a changed tree size still verifies")
	}
	fmt.Printf("%s %s %s\n", lines[0], lines[1], lines[2])
}
