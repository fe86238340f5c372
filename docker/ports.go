package docker

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// ephemeralRangeFile holds the range of ports the kernel picks for
// outgoing connections.
const ephemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// lowestStablePort is the lowest port handed out by stablePorts: ports
// below are often taken by well-known services.
const lowestStablePort = 10000

// ephemeralRange returns the kernel's range of ephemeral ports, or the
// IANA range 49152-65535 where it cannot be read (not Linux).
func ephemeralRange() (lo, hi int) {
	lo, hi = 49152, 65535
	b, err := os.ReadFile(ephemeralRangeFile)
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	l, err1 := strconv.Atoi(f[0])
	h, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || l < 1 || h < l || h > 65535 {
		return lo, hi
	}
	return l, h
}

// stableRanges returns the port ranges outside the ephemeral range
// [ephLo, ephHi] and above lowestStablePort (or 1024 when that leaves
// nothing), as [from, to] pairs.
func stableRanges(ephLo, ephHi int) [][2]int {
	for _, low := range []int{lowestStablePort, 1024} {
		var out [][2]int
		if ephLo-1 >= low {
			out = append(out, [2]int{low, ephLo - 1})
		}
		if ephHi+1 <= 65535 {
			out = append(out, [2]int{max(ephHi+1, low), 65535})
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// stablePorts returns n distinct free TCP ports on 127.0.0.1 outside the
// kernel's ephemeral range, so that an outgoing connection cannot take
// one while its server is stopped for a fault. When no such port is free
// it falls back to ports the kernel picks. Another process may still take
// a port before the server binds it; callers retry then.
func stablePorts(n int) ([]int, error) { return stablePortsBelow(n, 65535) }

// stablePortsBelow is stablePorts with every port at most maxPort (a
// Redis Cluster node needs port+10000 for its cluster bus).
func stablePortsBelow(n, maxPort int) ([]int, error) {
	var ranges [][2]int
	for _, r := range stableRanges(ephemeralRange()) {
		if r[0] <= maxPort {
			ranges = append(ranges, [2]int{r[0], min(r[1], maxPort)})
		}
	}
	size := 0
	for _, r := range ranges {
		size += r[1] - r[0] + 1
	}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for attempts := 0; len(ports) < n && size > 0 && attempts < 50*n; attempts++ {
		k := rand.IntN(size)
		port := 0
		for _, r := range ranges {
			if w := r[1] - r[0] + 1; k < w {
				port = r[0] + k
				break
			} else {
				k -= w
			}
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ports = append(ports, port)
	}
	if len(ports) < n {
		more, err := freePorts(n - len(ports))
		if err != nil {
			return nil, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
		}
		ports = append(ports, more...)
	}
	return ports, nil
}
