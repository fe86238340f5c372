package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
)

func redisSlotMigrationKind() Kind {
	return Kind{
		Name: "redis-slot-migration",
		Description: "key's slot moves to another master during the fault: its keys are migrated at once and the slot stays " +
			"MIGRATING/IMPORTING (clients get ASK) until heal assigns it to the new master (clients get MOVED)",
		Params:    []Param{keyParam()},
		Needs:     static(NeedsRedisControl),
		Topology:  docker.TopologyRedisCluster,
		Exclusive: exclusiveCluster,
		New: func(_ context.Context, env Env, p Params) (fault.Fault, error) {
			c, err := newClusterFault(env, p)
			if err != nil {
				return nil, err
			}
			return &slotMigration{clusterFault: c}, nil
		},
	}
}

// slotMigration moves key's slot from its master to another, the way
// redis-cli --cluster reshard does, with the slot left half-way for the
// fault's window: Inject marks the slot IMPORTING on the target and
// MIGRATING on the source and MIGRATEs every key in it, so that clients
// are sent on with ASK (keys created meanwhile land on the target); Heal
// moves what is left and assigns the slot to the target on every master,
// after which clients get MOVED once and update their slot map.
type slotMigration struct {
	*clusterFault
	slot     int
	src, dst clusterNode
	active   bool
}

func (f *slotMigration) Name() string { return "redis-slot-migration" }

func (f *slotMigration) Inject(ctx context.Context) error {
	f.log.reset()
	slot, err := f.rdb.ClusterKeySlot(ctx, f.key).Result()
	if err != nil {
		return fmt.Errorf("CLUSTER KEYSLOT %s: %w", f.key, err)
	}
	f.slot = int(slot)
	var witness string
	for addr := range f.nodes {
		witness = addr
		break
	}
	nodes, err := f.layout(ctx, witness)
	if err != nil {
		return err
	}
	if f.src, err = f.owner(ctx, witness, f.slot); err != nil {
		return err
	}
	found := false
	for _, n := range nodes {
		if strings.Contains(n.flags, "master") && !strings.Contains(n.flags, "fail") && n.id != f.src.id && len(n.slots) > 0 {
			f.dst, found = n, true
			break
		}
	}
	if !found {
		return errors.New("no other live master to move the slot to")
	}
	if err := f.nodes[f.dst.addr].Do(ctx, "CLUSTER", "SETSLOT", f.slot, "IMPORTING", f.src.id).Err(); err != nil {
		return fmt.Errorf("%s: CLUSTER SETSLOT IMPORTING: %w", f.dst.addr, err)
	}
	f.active = true
	if err := f.nodes[f.src.addr].Do(ctx, "CLUSTER", "SETSLOT", f.slot, "MIGRATING", f.dst.id).Err(); err != nil {
		return fmt.Errorf("%s: CLUSTER SETSLOT MIGRATING: %w", f.src.addr, err)
	}
	n, err := f.moveKeys(ctx)
	if err != nil {
		return err
	}
	f.log.add("slot %d (key %s) migrating from %s to %s: %d keys moved, clients get ASK", f.slot, f.key, f.src.addr, f.dst.addr, n)
	return nil
}

// moveKeys MIGRATEs every key of the slot from the source to the target.
func (f *slotMigration) moveKeys(ctx context.Context) (int, error) {
	src := f.nodes[f.src.addr]
	host, port, _ := strings.Cut(f.dst.addr, ":")
	moved := 0
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, f.slot, 100).Result()
		if err != nil {
			return moved, fmt.Errorf("%s: CLUSTER GETKEYSINSLOT: %w", f.src.addr, err)
		}
		if len(keys) == 0 {
			return moved, nil
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		if err := src.Do(ctx, args...).Err(); err != nil && !strings.Contains(err.Error(), "NOKEY") {
			return moved, fmt.Errorf("%s: MIGRATE to %s: %w", f.src.addr, f.dst.addr, err)
		}
		moved += len(keys)
	}
}

func (f *slotMigration) Heal(ctx context.Context) error {
	if !f.active {
		return nil
	}
	if _, err := f.moveKeys(ctx); err != nil {
		return err
	}
	// The target first, then the source, then every other master: the
	// order redis-cli uses, so that no node points clients back.
	order := []string{f.dst.addr, f.src.addr}
	for addr := range f.nodes {
		if addr != f.dst.addr && addr != f.src.addr {
			order = append(order, addr)
		}
	}
	for _, addr := range order {
		if err := f.nodes[addr].Do(ctx, "CLUSTER", "SETSLOT", f.slot, "NODE", f.dst.id).Err(); err != nil && addr == f.dst.addr {
			return fmt.Errorf("%s: CLUSTER SETSLOT NODE: %w", addr, err)
		}
	}
	f.active = false
	err := pollUntil(ctx, failoverBound, "every node sees the slot at its new master", func(ctx context.Context) (bool, error) {
		for addr := range f.nodes {
			m, err := f.owner(ctx, addr, f.slot)
			if err != nil || m.id != f.dst.id {
				return false, err
			}
		}
		return true, nil
	})
	if err == nil {
		f.log.add("slot %d now owned by %s (clients get MOVED once)", f.slot, f.dst.addr)
	}
	return err
}
