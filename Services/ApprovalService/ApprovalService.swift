// approval-service: Serves the approvals API and page for people; records decisions.
// Today it serves /health/live, /health/ready and /metrics on its port; see README.md beside this file.
import KeelService

@main
enum ApprovalService {
    static func main() async {
        await KeelServiceMain.main(.approvalService)
    }
}
