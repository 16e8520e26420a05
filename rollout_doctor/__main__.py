from rollout_doctor.entry import run

run()
