package process_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// The test binary doubles as the foreign process: with GB_FAKE_PROCESS set
// it speaks the protocol (or breaks it) on stdin/stdout instead of running
// tests. Fakes are fine at our own plug-in points; the servers stay real.

const fakeEnv = "GB_FAKE_PROCESS"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeProcess(mode))
	}
	os.Exit(m.Run())
}

// fakeCommand is the command line of a fake in mode (set with t.Setenv).
func fakeCommand(t testing.TB, mode string) []string {
	t.Setenv(fakeEnv, mode)
	return []string{os.Args[0], "-test.run=^$"}
}

type fakeMsg map[string]any

// fakeProcess is the fake. Modes:
//
//	noop          answers everything: reads the seed row, writes with an
//	              in-memory version per key (no database: for benchmarks)
//	malformed     answers init, then a line that is not JSON
//	oversized     answers init, then a 2 MiB line
//	unknown-type  answers init, then a message of an unknown type
//	bad-id        answers init, then a reply to an id never sent
//	exit          answers init, starts a grandchild (sleep), writes to
//	              stderr and exits 3 on the first request
//	silent        answers init, then never answers
//	no-init       never answers init
//	lie-ok        answers every write with write_ok (nothing committed)
func fakeProcess(mode string) int {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	var mu sync.Mutex
	out := json.NewEncoder(os.Stdout)
	send := func(m fakeMsg) {
		mu.Lock()
		defer mu.Unlock()
		_ = out.Encode(m)
	}
	fmt.Fprintln(os.Stderr, "fake process starting in mode", mode)
	versions := map[float64]float64{}
	for in.Scan() {
		var m fakeMsg
		if err := json.Unmarshal(in.Bytes(), &m); err != nil {
			fmt.Fprintln(os.Stderr, "bad input:", err)
			return 1
		}
		id := m["id"]
		switch m["type"] {
		case "init":
			if mode == "no-init" {
				continue
			}
			send(fakeMsg{"type": "init_ok", "in_reply_to": id, "protocol": 1, "name": "fake-" + mode, "peek": mode == "noop"})
			continue
		case "point_ok", "error":
			continue
		}
		switch mode {
		case "malformed":
			fmt.Println("this is not json")
		case "oversized":
			fmt.Println(`{"type":"read_ok","text":"` + strings.Repeat("x", 2<<20) + `"}`)
		case "unknown-type":
			send(fakeMsg{"type": "bogus", "in_reply_to": id})
		case "bad-id":
			send(fakeMsg{"type": "read_ok", "in_reply_to": 999999, "value": fakeMsg{"version": 0, "token": 0, "balance": 0}})
		case "exit":
			_ = exec.Command("sleep", "60").Start()
			fmt.Fprintln(os.Stderr, "fake process: giving up with a last word")
			return 3
		case "silent", "no-init":
		case "lie-ok":
			if m["type"] == "write" {
				send(fakeMsg{"type": "write_ok", "in_reply_to": id})
				continue
			}
			send(fakeMsg{"type": "read_ok", "in_reply_to": id, "value": fakeMsg{"version": 0, "token": 0, "balance": 0}})
		case "noop":
			switch m["type"] {
			case "read":
				send(fakeMsg{"type": "read_ok", "in_reply_to": id, "value": fakeMsg{"version": 0, "token": 0, "balance": 0}, "hit": true})
			case "write":
				mu.Lock()
				k := m["key"].(float64)
				versions[k]++
				v := versions[k]
				mu.Unlock()
				send(fakeMsg{"type": "write_ok", "in_reply_to": id, "version": v})
			case "peek":
				send(fakeMsg{"type": "peek_ok", "in_reply_to": id, "present": false})
			default:
				send(fakeMsg{"type": "error", "in_reply_to": id, "class": "other", "definite": true, "text": "unsupported"})
			}
		}
	}
	return 0
}
