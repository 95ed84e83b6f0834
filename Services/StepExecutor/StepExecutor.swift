// step-executor: Consumes keel.steps.<pool>.<shard>, claims attempts under a lease, executes step kinds.
// Today it serves /health/live, /health/ready and /metrics on its port; see README.md beside this file.
import KeelService

@main
enum StepExecutor {
    static func main() async {
        await KeelServiceMain.main(.stepExecutor)
    }
}
