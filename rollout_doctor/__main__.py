from rollout_doctor.entry import main

raise SystemExit(main())
