// trigger-intake: Consumes keel.triggers, validates and dedupes triggers, creates runs.
// Today it serves /health/live, /health/ready and /metrics on its port; see README.md beside this file.
import KeelService

@main
enum TriggerIntake {
    static func main() async {
        await KeelServiceMain.main(.triggerIntake)
    }
}
