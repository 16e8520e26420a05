from rollout_doctor.cli import main

raise SystemExit(main())
