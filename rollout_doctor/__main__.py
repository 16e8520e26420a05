from rollout_doctor.cli.main import run

run()
