/*
 * park.pml -- SPIN model of Beat's worker parking protocol.
 *
 * Models the pair of functions in src/scheduler.c:
 *   beat__idle_park()    -- a worker that found no work goes to sleep
 *   beat__idle_notify()  -- a producer that published work wakes a sleeper
 * plus the pool shutdown broadcast (beat__idle_wake_all).
 *
 * Shared state (as in the C code, struct beat_pool):
 *   epoch     idle_epoch, the 32-bit futex word (a byte here: it is bumped
 *             at most K+1 times, so it never wraps in the model)
 *   sleepers  idle_sleepers, workers between "sleepers += 1" and "-= 1"
 *   waking    idle_waking, 1 from a notifier's successful CAS until some
 *             worker leaves the park and clears it
 *   queue     number of items in the injection queue ("work")
 *   stop      the stopping flag
 *
 * Memory model: Promela interleaves whole statements, so every run is
 * sequentially consistent. The C code reaches the same guarantees with
 * seq_cst RMWs and beat__fence_seq_cst() between relaxed accesses; the
 * fences are therefore no-ops here, and only their positions are noted.
 * Each shared load or store in the C code is its own Promela statement, so
 * SPIN may interleave the other processes between any two of them (e.g.
 * between the notifier's load of sleepers, its load of waking and its CAS).
 *
 * The futex is modelled faithfully:
 *   futex_wait(&epoch, e): ONE atomic step "if epoch == e, enqueue me as
 *     blocked", then the worker waits until a waker clears blocked[me].
 *   futex_wake(&epoch, n): ONE atomic step that unblocks up to n currently
 *     blocked workers; when several are blocked, SPIN picks either.
 *   Spurious wakeups (legal for a real futex) are not modelled; they can
 *   only make the protocol more live, never less.
 *
 * Why the recheck is needed (the lost-wakeup race it closes):
 *   worker:   sleepers += 1
 *   producer: push item; sees sleepers > 0; epoch += 1; futex_wake(1)
 *             -- nobody is blocked yet, so the wake is a no-op
 *   worker:   e = epoch           (already the NEW value)
 *   worker:   futex_wait(&epoch, e) -> epoch == e, so it blocks
 *   The item sits in the queue and nobody will ever bump epoch again for it.
 *   Since the producer's push happens before its epoch bump, a worker that
 *   reads the bumped epoch is guaranteed to see the item when it looks at
 *   the queue afterwards: that is the recheck. Conversely, if the producer
 *   reads sleepers == 0, the worker's sleepers += 1 came after the push
 *   (seq_cst), so again the recheck sees the item. (Without the recheck that
 *   second case is the shortest counterexample: both workers saw an empty
 *   queue, the producer pushed every item while sleepers == 0 and skipped
 *   the wake, then both workers block.) The same race with the stop
 *   broadcast is why the recheck also looks at stop.
 *
 * The waking flag: a notifier that sees waking != 0 skips its wake, on the
 * grounds that an earlier wake is still on its way and the worker it frees
 * will search and find the new item too. Only the notifier whose CAS moves
 * waking from 0 to 1 bumps epoch and calls futex_wake(1). A worker leaving
 * the park, by whatever path (woken, EAGAIN, or the recheck), clears the
 * flag, whoever set it; clearing another's flag only permits an extra wake.
 * The fence after the clear pairs with the notifier's fence: either the
 * notifier reads waking == 0 and wakes, or the worker's next search sees
 * the item. The whole scheme is live only if a set flag is always cleared
 * by some worker that then searches again: a flag left at 1 while every
 * worker sleeps mutes every later notify. A wake can reach nobody (it is
 * issued while both sleepers are between their recheck and the futex), so
 * the recheck also refuses to sleep while the flag is set: the worker
 * leaves, clears it and searches again. -DNO_WAKING_RECHECK drops that and
 * shows the stuck flag (two items suffice; K = 3 leaves room for a second
 * wake after a clear).
 *
 * Shutdown: like the real pool's destroy, the producer first waits until all
 * submitted work has been taken, then sets stop and broadcasts. So the stop
 * broadcast cannot hide a lost wakeup: a lost one shows up as an invalid end
 * state (producer stuck in "wait for drain", workers blocked in futex_wait,
 * an item still queued). The broadcast bumps epoch and wakes everyone
 * without touching waking, as beat__idle_wake_all does.
 *
 * Variants:
 *   (default)          the protocol as implemented -> 0 errors expected
 *   -DNO_RECHECK       drop the recheck            -> invalid end state expected
 *   -DNO_WAKING_RECHECK  the recheck ignores waking -> invalid end state expected
 *                      (a wake issued while both sleepers are between the
 *                      recheck and the futex reaches nobody; the flag it
 *                      set then mutes every later notify: the bug this
 *                      model found in the first version of the flag)
 *   -DK=n              number of items produced (default 3)
 */

#ifndef K
#define K 3
#endif

#define NW 2            /* number of workers */

byte epoch    = 0;
byte sleepers = 0;
bool waking   = 0;
byte queue    = 0;
bool stop     = 0;
bool blocked[NW];       /* futex wait queue membership */
byte taken    = 0;      /* items taken (and run) by workers, in total */
byte exited   = 0;      /* workers that returned from their loop */

/* futex_wake(&epoch, 1): unblock at most one blocked waiter, any one. */
inline futex_wake_one()
{
	atomic {
		if
		:: blocked[0] -> blocked[0] = 0
		:: blocked[1] -> blocked[1] = 0
		:: else -> skip
		fi
	}
}

/* futex_wake(&epoch, BEAT__FUTEX_WAKE_ALL): unblock every blocked waiter. */
inline futex_wake_all()
{
	atomic {
		blocked[0] = 0;
		blocked[1] = 0
	}
}

proctype worker(byte me)
{
	byte e;
loop:
	/* try_take_item(): an atomic pop from the injection queue; run it. */
	atomic {
		if
		:: queue > 0 ->
			queue--;
			taken++;
			assert(taken <= K);
			goto loop
		:: else -> skip
		fi
	}
	/* main loop: if (stopping && no work visible) exit */
	if
	:: stop && queue == 0 -> goto done
	:: else -> skip
	fi;

	/* ---- beat__idle_park() ---- */
	/* beat__atomic_fetch_add_u32(&idle_sleepers, 1, SEQ_CST) */
	sleepers++;
	/* epoch = beat__atomic_load_u32(&idle_epoch, SEQ_CST) */
	e = epoch;
	/* beat__fence_seq_cst()   (pairs with the notifier's fence) */
#ifndef NO_RECHECK
	/* if (beat__work_visible(pool) || waking) skip the sleep;
	 * else if (stopping) exit = 1, also without sleeping.
	 * A set waking flag may stand for a wake that reached nobody (issued
	 * while both sleepers were between this check and the futex): leaving
	 * clears it, so nobody sleeps while it mutes the notifiers. */
	if
	:: queue > 0 || stop -> goto leave
#ifndef NO_WAKING_RECHECK
	:: waking != 0 -> goto leave
#endif
	:: else -> skip
	fi;
#endif
	/* beat__idle_sleep -> beat__futex_wait(&idle_epoch, epoch): compare
	 * and enqueue in one kernel step ... */
	atomic {
		if
		:: epoch == e -> blocked[me] = 1
		:: else -> skip        /* EAGAIN: epoch moved on, return at once */
		fi
	}
	/* ... then sleep until a futex_wake removes us from the queue. */
	(blocked[me] == 0);
leave:
	/* every way out of the park comes here:
	 * beat__atomic_fetch_sub_u32(&idle_sleepers, 1, RELAXED) */
	sleepers--;
	/* if (load(&idle_waking) != 0) store(&idle_waking, 0): a plain load
	 * and a plain store, two steps with room for a notifier in between */
	if
	:: waking != 0 -> waking = 0
	:: else -> skip
	fi;
	/* beat__fence_seq_cst(); return exit   (the caller searches again) */
	/* ---- end beat__idle_park() ---- */
	goto loop;
done:
	exited++
}

active proctype producer()
{
	byte i = 0;
	bool won;               /* result of the CAS on waking */

	run worker(0);
	run worker(1);

	do
	:: i < K ->
		/* submit: push the item into the injection queue */
		queue++;
		/* ---- beat__idle_notify() ----
		 * beat__fence_seq_cst()   (pairs with the parker's fences;
		 * beat__idle_notify_pushed has none: the push's seq_cst exchange
		 * of the tail, read by the parker's recheck, pairs instead) */
		/* if (load(&idle_sleepers) == 0 || load(&idle_waking) != 0) return;
		 * the || evaluates left to right, one load per step */
		if
		:: sleepers == 0 -> skip
		:: else ->
			if
			:: waking != 0 -> skip
			:: else ->
				/* beat__atomic_cas_u32(&idle_waking, &idle(=0), 1):
				 * one atomic RMW */
				atomic {
					if
					:: waking == 0 -> waking = 1; won = 1
					:: else -> won = 0
					fi
				}
				/* on success, beat__futex_bump_wake(&idle_epoch, 1):
				 * fetch_add(&idle_epoch, 1, SEQ_CST), then futex_wake */
				if
				:: won ->
					epoch++;
					futex_wake_one()
				:: else -> skip
				fi
			fi
		fi;
		/* ---- end beat__idle_notify() ---- */
		i++
	:: else -> break
	od;

	/* destroy: wait until all submitted work has been taken ... */
	(taken == K);
	/* ... then stopping = 1; beat__idle_wake_all(): epoch += 1;
	 * futex_wake(&epoch, ALL). waking is left as it is. */
	stop = 1;
	epoch++;
	futex_wake_all();

	/* join the workers, then check nothing was lost or duplicated */
	(exited == NW);
	assert(taken == K && queue == 0 && sleepers == 0)
}
