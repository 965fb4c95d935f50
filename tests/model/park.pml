/*
 * park.pml -- SPIN model of Beat's worker parking protocol.
 *
 * Models the pair of functions in src/scheduler.c:
 *   beat__idle_park()    -- a worker that found no work goes to sleep
 *   beat__idle_notify()  -- a producer that published work wakes a sleeper
 * plus the pool shutdown broadcast.
 *
 * Shared state (as in the C code):
 *   epoch     the 32-bit futex word (a byte here: it is bumped at most K+1
 *             times, so it never wraps in the model)
 *   sleepers  number of workers inside the park protocol
 *   queue     number of items in the injection queue ("work")
 *   stop      shutdown flag
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
 * Shutdown: like the real pool's destroy, the producer first waits until all
 * submitted work has been taken, then sets stop and broadcasts. So the stop
 * broadcast cannot hide a lost wakeup: without the recheck, SPIN reports an
 * invalid end state (producer stuck in "wait for drain", workers blocked in
 * futex_wait, an item still queued).
 *
 * Variants:
 *   (default)      the protocol as implemented -> 0 errors expected
 *   -DNO_RECHECK   drop the recheck            -> invalid end state expected
 *   -DK=n          number of items produced (default 3)
 */

#ifndef K
#define K 3
#endif

#define NW 2            /* number of workers */

byte epoch    = 0;
byte sleepers = 0;
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

/* futex_wake(&epoch, INT_MAX): unblock every blocked waiter. */
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
	/* if (stop && queue empty) exit */
	if
	:: stop && queue == 0 -> goto done
	:: else -> skip
	fi;

	/* ---- beat__idle_park() ---- */
	/* atomic_fetch_add(&sleepers, 1)   (seq_cst RMW) */
	sleepers++;
	/* e = atomic_load(&epoch)          (seq_cst load) */
	e = epoch;
#ifndef NO_RECHECK
	/* recheck: if (work queued || stop) { sleepers -= 1; return; } */
	if
	:: queue > 0 || stop ->
		sleepers--;
		goto loop
	:: else -> skip
	fi;
#endif
	/* futex_wait(&epoch, e): compare and enqueue in one kernel step ... */
	atomic {
		if
		:: epoch == e -> blocked[me] = 1
		:: else -> skip        /* EAGAIN: epoch moved on, return at once */
		fi
	}
	/* ... then sleep until a futex_wake removes us from the queue. */
	(blocked[me] == 0);
	/* atomic_fetch_sub(&sleepers, 1) */
	sleepers--;
	/* ---- end beat__idle_park() ---- */
	goto loop;
done:
	exited++
}

active proctype producer()
{
	byte i = 0;

	run worker(0);
	run worker(1);

	do
	:: i < K ->
		/* submit: push the item into the injection queue */
		queue++;
		/* ---- beat__idle_notify() ----
		 * seq_cst fence (a plain sequence in SC Promela), then
		 * if (atomic_load(&sleepers) > 0) { epoch += 1; futex_wake(1) } */
		if
		:: sleepers > 0 ->
			epoch++;
			futex_wake_one()
		:: else -> skip
		fi;
		/* ---- end beat__idle_notify() ---- */
		i++
	:: else -> break
	od;

	/* destroy: wait until all submitted work has been taken ... */
	(taken == K);
	/* ... then stop = 1; epoch += 1; futex_wake(&epoch, ALL) */
	stop = 1;
	epoch++;
	futex_wake_all();

	/* join the workers, then check nothing was lost or duplicated */
	(exited == NW);
	assert(taken == K && queue == 0 && sleepers == 0)
}
