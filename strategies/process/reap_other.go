//go:build unix && !linux

package process

import "os"

// Without /proc and a child subreaper, the process group is all the
// harness can reach: what the process started in a session or group of
// its own is not found.
func becomeSubreaper() {}

func pipeName(*os.File) string { return "" }

func snapshot(int, uint64, string) map[int]uint64 { return nil }

func killFamily(int, uint64, string, []string, map[int]uint64) []string { return nil }

func knownAlive(map[int]uint64) bool { return false }

func startTime(int) uint64 { return 0 }
