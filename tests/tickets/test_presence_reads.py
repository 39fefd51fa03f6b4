"""Sockets of one process that ask for a ticket's presence at once share a read (issue 15):
500 staff tabs hearing one change made 500 reads and ran the Redis pool dry. A socket never gets
a read that started before it asked (it could miss the change it heard of)."""

import asyncio

from tickets.presence import _SharedReads


async def settled():
    """Let every task that can run, run (a few loop turns; no timed sleep)."""
    for _turn in range(20):
        await asyncio.sleep(0)


def test_askers_at_once_share_a_read_and_a_later_one_gets_a_read_started_after_it_asked():
    async def scenario():
        reads = _SharedReads()
        started = []
        release = asyncio.Event()

        async def read():
            started.append(len(started) + 1)
            number = len(started)
            await release.wait()
            return number

        # Asked in the same turn (one event reaching every socket): one read for the three.
        first = [asyncio.ensure_future(reads.read("t", read)) for _ in range(3)]
        await settled()
        assert started == [1]
        # Asked once read 1 has begun: queued behind it, all of them on one read.
        later = [asyncio.ensure_future(reads.read("t", read)) for _ in range(5)]
        await settled()
        assert started == [1]
        release.set()
        assert await asyncio.gather(*first) == [1, 1, 1]
        assert await asyncio.gather(*later) == [2, 2, 2, 2, 2]
        assert started == [1, 2]
        # Nothing running any more: the next asker starts a read of its own.
        assert await reads.read("t", read) == 3
        assert reads.running == {} and reads.queued == {}

    asyncio.run(scenario())


def test_a_failed_read_fails_its_askers_only_and_the_next_ask_reads_again():
    async def scenario():
        reads = _SharedReads()

        async def broken():
            raise ConnectionError("pool exhausted")

        async def fine():
            return "ok"

        results = await asyncio.gather(
            reads.read("t", broken), reads.read("t", broken), return_exceptions=True
        )
        assert all(isinstance(result, ConnectionError) for result in results)
        assert await reads.read("t", fine) == "ok"

    asyncio.run(scenario())
