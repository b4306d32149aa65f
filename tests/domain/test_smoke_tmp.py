from app import allocation, session
from app.models import SessionSource, SessionStatus
from app.timing import session_times


async def test_flow(db, frozen):
    s = await session.clock_in(db, "u1", "Maths", "goal", source=SessionSource.API)
    assert s.status == SessionStatus.RUNNING
    frozen.advance(600)
    await session.pause(db, "u1", s.id)
    frozen.advance(600)
    await session.resume(db, "u1", s.id)
    frozen.advance(600)
    out = await session.clock_out(db, "u1", s.id)
    t = session_times(out.session, frozen.now())
    assert (t.measured, t.paused, t.effective) == (1800, 600, 1200)
    rep = await allocation.set_allocation(db, "u1", "maths", 2)
    assert rep.rows[0].allocated_seconds == 7200 and rep.rows[0].tracked_seconds == 1200
    rep = await allocation.set_allocation(db, "u1", "Physics", 1)
    print(rep)
