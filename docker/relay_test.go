package docker

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers every line with its name and the line.
func echoServer(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					io.WriteString(c, name+" "+l)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func relayRoundTrip(t *testing.T, c net.Conn, r *bufio.Reader) (string, error) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

// TestRelaySetUpstream: after SetUpstream the connections to the old
// upstream are cut and new ones reach the new upstream (a replication
// link that follows a failover).
func TestRelaySetUpstream(t *testing.T) {
	a, b := echoServer(t, "a"), echoServer(t, "b")
	r, err := startRelay("test", a)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rd := bufio.NewReader(c)
	if got, err := relayRoundTrip(t, c, rd); err != nil || got != "a ping\n" {
		t.Fatalf("through the relay to a: %q, %v", got, err)
	}
	r.SetUpstream(b)
	if r.Upstream() != b {
		t.Errorf("Upstream() = %s after SetUpstream(%s)", r.Upstream(), b)
	}
	if got, err := relayRoundTrip(t, c, rd); err == nil {
		t.Errorf("the connection to the old upstream still answers %q after SetUpstream", got)
	}
	c2, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got, err := relayRoundTrip(t, c2, bufio.NewReader(c2)); err != nil || got != "b ping\n" {
		t.Fatalf("a new connection after SetUpstream: %q, %v; want b's answer", got, err)
	}
}
