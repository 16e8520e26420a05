from rollout_doctor.cli.entry import run

run()
